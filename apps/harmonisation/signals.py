"""Events of the harmonisation stage that later stages subscribe to; this app never imports them."""

from django.dispatch import Signal

# Sent with `table_id` once a new harmonised table is committed (from transaction.on_commit): the checks app
# schedules its integrity checks on it.
table_harmonised = Signal()
