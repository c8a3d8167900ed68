"""Signals sent inside the transaction that changes a job's state, so a stage can keep its own rows in step."""

from django.dispatch import Signal

# Sent with `job` (the saved Job) whenever its state changes: claimed, requeued, succeeded or failed.
job_state_changed = Signal()
