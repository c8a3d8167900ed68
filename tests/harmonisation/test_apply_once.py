"""Applying a mapping is idempotent: one table per (mapping revision, input), one apply at a time, one check run."""

import threading

import pytest
from celery import current_app
from django.db import IntegrityError, close_old_connections, connection, transaction
from django.urls import reverse
from rest_framework.test import APIClient

from apps.checks import services as checks
from apps.checks.models import CheckRun
from apps.core.errors import ApplicationError
from apps.harmonisation import services
from apps.harmonisation.models import HarmonisedTable
from apps.jobs.models import Job
from tests.harmonisation.conftest import set_rules
from tests.workers import wait_for


def backend_pid() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        return cursor.fetchone()[0]


def blocking_pids(pid: int) -> list[int]:
    """The sessions whose locks `pid` waits for (read live, not from a statistics snapshot)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_blocking_pids(%s)", [pid])
        return cursor.fetchone()[0]


@pytest.fixture
def eager():
    import apps.checks.tasks  # noqa: F401  (registers the task)

    previous = current_app.conf.task_always_eager
    current_app.conf.task_always_eager = True
    yield
    current_app.conf.task_always_eager = previous


def apply(mapping, actor, capture) -> Job:
    with capture(execute=True):
        job = services.mapping_apply(mapping=mapping, actor=actor)
    job.refresh_from_db()
    assert job.state == Job.State.SUCCEEDED, job.error
    return job


@pytest.mark.django_db
def test_applying_the_same_revision_twice_gives_one_table_and_one_check_run(
    mapping, schema, analyst, eager, django_capture_on_commit_callbacks
):
    set_rules(mapping, schema, analyst)
    first = apply(mapping, analyst, django_capture_on_commit_callbacks)
    second = apply(mapping, analyst, django_capture_on_commit_callbacks)
    assert first.pk != second.pk
    assert first.result["harmonised_table"] == second.result["harmonised_table"]
    table = HarmonisedTable.objects.get()
    assert len(table.input_sha256) == 64 and table.job == first
    assert CheckRun.objects.filter(harmonised_table=table).count() == 1
    # A changed rule is a new revision: a new table.
    services.mapping_rule_set(
        mapping=mapping, target=schema["AGE"], actor=analyst, category="direct", source_variables=["age"], rationale="x"
    )
    third = apply(mapping, analyst, django_capture_on_commit_callbacks)
    assert third.result["harmonised_table"] != table.pk and HarmonisedTable.objects.count() == 2


@pytest.mark.django_db
def test_the_database_holds_one_table_per_input(mapping, schema, analyst):
    set_rules(mapping, schema, analyst)
    table = services.harmonised_table_build(mapping=mapping, actor=analyst)
    assert services.harmonised_table_build(mapping=mapping, actor=analyst).pk == table.pk
    fields = {
        name: getattr(table, name)
        for name in ("mapping_revision", "storage_name", "sha256", "code_version", "input_sha256", "n_rows")
    }
    with pytest.raises(IntegrityError), transaction.atomic():
        HarmonisedTable.objects.create(mapping=mapping, **fields)


@pytest.mark.django_db
def test_an_apply_is_refused_while_one_is_queued(mapping, schema, analyst):
    set_rules(mapping, schema, analyst)
    queued = services.mapping_apply(mapping=mapping, actor=analyst)  # stays queued: nothing commits here
    with pytest.raises(ApplicationError) as raised:
        services.mapping_apply(mapping=mapping, actor=analyst)
    assert raised.value.status == 409 and raised.value.code == "apply_in_progress"
    assert f"job {queued.pk}" in raised.value.message and "queued" in raised.value.message
    client = APIClient()
    client.force_authenticate(analyst)
    response = client.post(reverse("api-mapping-apply", args=[mapping.pk]))
    assert response.status_code == 409 and response.json()["error"]["code"] == "apply_in_progress"
    Job.objects.filter(pk=queued.pk).update(state=Job.State.RUNNING)
    with pytest.raises(ApplicationError, match="still running"):
        services.mapping_apply(mapping=mapping, actor=analyst)
    Job.objects.filter(pk=queued.pk).update(state=Job.State.SUCCEEDED)
    assert services.mapping_apply(mapping=mapping, actor=analyst).pk != queued.pk


@pytest.mark.django_db(transaction=True)
def test_check_scheduling_waits_for_the_table_lock_and_finds_the_run(mapping, schema, analyst):
    """A scheduler that finds no run must not insert one while another transaction is about to."""
    set_rules(mapping, schema, analyst)
    table = services.harmonised_table_build(mapping=mapping, actor=analyst)
    found = {}
    started = threading.Event()

    def schedule_elsewhere():
        try:
            found["backend"] = backend_pid()
            started.set()
            found["run"] = checks.check_run_schedule(table=table, actor=analyst)
        finally:
            close_old_connections()
            connection.close()

    with transaction.atomic():
        HarmonisedTable.objects.select_for_update().get(pk=table.pk)
        other = threading.Thread(target=schedule_elsewhere)
        other.start()
        assert started.wait(timeout=10)
        # PostgreSQL itself says when the other scheduler waits for this transaction's lock: no sleep, no race.
        wait_for(lambda: backend_pid() in blocking_pids(found["backend"]), timeout=10, what="the other to wait")
        assert other.is_alive() and "run" not in found
        mine = checks.check_run_schedule(table=table, actor=analyst)
    other.join(timeout=10)
    assert found["run"].pk == mine.pk
    assert CheckRun.objects.filter(harmonised_table=table).count() == 1


def test_the_apply_task_has_soft_and_hard_time_limits():
    from apps.harmonisation.tasks import mapping_apply_task

    assert mapping_apply_task.soft_time_limit == 1800
    assert mapping_apply_task.time_limit == mapping_apply_task.soft_time_limit + 60
