"""Faults, as figures: what happens to jobs, schedules and requests when a worker, beat, Redis or PostgreSQL
stops, on a PostgreSQL and a Redis of this script's own (temporary directories, free ports; the shared ones are
never touched).

    .venv/bin/python benchmarks/faults.py                  # every fault; about 3 minutes
    .venv/bin/python benchmarks/faults.py --rows 300000 --fault "worker killed: parse"

Faults tried:
- for each job kind in JOB_KINDS, the worker killed (SIGKILL, with its children) while the job runs, and a new
  worker started: the job must end succeeded, or failed with a reason, within the stale time plus the reaper's
  period and one run; no job may be left running;
- beat killed and restarted, with a second beat running beside it for a while: the periodic reaper must go on,
  never running twice for one period;
- Redis restarted without persistence while a job waits in the queue (its message lost): the reaper sends it
  again and it finishes; the API keeps answering while Redis is down (the cache fails open);
- PostgreSQL restarted under a stream of API requests: errors only while it is down.

To cover a new job kind, add a JobKind to JOB_KINDS: a function that queues one job of that kind (given the
Context of the earlier kinds' results) and returns the job's id.
"""

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from tests.private_services import PrivatePostgres, PrivateRedis, free_port  # noqa: E402

STALE_SECONDS = 10
REAP_EVERY_SECONDS = 2
HEARTBEAT_SECONDS = 0.5


@dataclass
class Context:
    """What the scenarios share: the people and trial, the storage, and the objects earlier jobs made."""

    actor: object = None
    trial: object = None
    storage_root: Path | None = None
    rows: int = 0
    objects: dict = field(default_factory=dict)


@dataclass(frozen=True)
class JobKind:
    name: str
    queue_job: Callable[[Context], int]  # queues one job, returns its id


def _write_csv(path: Path, rows: int, seed: int = 0) -> None:
    from ingest import write_csv

    write_csv(path, rows)
    if seed:
        with path.open("a") as handle:  # different content, so a new version
            handle.write(f"P9{seed:06d},1,A,M,40,2019-01-01,{','.join(['50'] * 10)},no,0,10.0,\n")


def _parse_job_id(version) -> int:
    from apps.jobs.models import Job
    from apps.jobs.services import target_type_of

    return Job.objects.filter(target_type=target_type_of(version), target_id=str(version.pk)).latest("pk").pk


def queue_parse(context: Context) -> int:
    from django.core.files import File

    from apps.datasets.services import dataset_upload

    path = context.storage_root.parent / "upload.csv"
    _write_csv(path, context.rows)
    with path.open("rb") as handle:
        version, _ = dataset_upload(trial=context.trial, actor=context.actor, file=File(handle, name="trial.csv"))
    context.objects["version"] = version
    return _parse_job_id(version)


def queue_apply(context: Context) -> int:
    from ingest import schema_and_rules

    from apps.datasets.models import DatasetVersion
    from apps.harmonisation import services

    version = DatasetVersion.objects.get(pk=context.objects["version"].pk)
    if version.status != DatasetVersion.Status.PARSED:
        raise RuntimeError(f"the parse before the apply did not succeed: {version.status}")
    targets, rule_list = schema_and_rules()
    review = context.trial.review
    variables = {}
    for target in targets:
        spec = {"name": target.name, "type": target.type, "unit": target.unit}
        spec |= {"allowed_values": list(target.allowed_values), "minimum": target.minimum, "maximum": target.maximum}
        variables[target.name] = services.schema_variable_create(review=review, actor=context.actor, **spec)
    mapping = services.mapping_create(trial=context.trial, source_version=version, actor=context.actor)
    for rule in rule_list:
        services.mapping_rule_set(
            mapping=mapping, target=variables[rule.target], actor=context.actor, category=rule.category,
            source_variables=list(rule.source_variables), parameters=rule.parameters,
        )  # fmt: skip
    return services.mapping_apply(mapping=mapping, actor=context.actor).pk


def queue_check_run(context: Context) -> int:
    from apps.checks.services import check_run_start

    return check_run_start(trial=context.trial, actor=context.actor).job_id


def queue_analysis_run(context: Context) -> int:
    """An odds ratio adjusted for age on the applied table: the trial is taken as included, its schema's arm and
    event variables given their roles."""
    from apps.analyses import services
    from apps.harmonisation.models import SchemaVariable
    from apps.reviews.models import Outcome
    from apps.trials.lifecycle import Status
    from apps.trials.models import Trial

    review = context.trial.review
    SchemaVariable.objects.filter(review=review, name="TRT01P").update(role=SchemaVariable.Role.TREATMENT)
    SchemaVariable.objects.filter(review=review, name="EVENT").update(role=SchemaVariable.Role.OUTCOME)
    Trial.objects.filter(pk=context.trial.pk).update(status=Status.INCLUDED)
    outcome = Outcome.objects.create(review=review, name="Event", type="binary", measure="OR")
    analysis = services.analysis_create(
        review=review,
        actor=context.actor,
        data={"name": "Faults", "outcome": outcome.pk, "outcome_variable": "EVENT", "adjust": ["AGE"]},
    )
    run, _ = services.run_request(analysis=analysis, actor=context.actor)
    return run.job_id


JOB_KINDS = [
    JobKind("parse", queue_parse),
    JobKind("apply", queue_apply),
    JobKind("check run", queue_check_run),
    JobKind("analysis run", queue_analysis_run),
]


class Services:
    """The private PostgreSQL and Redis, and the app's processes started against them."""

    def __init__(self, storage_root: Path):
        self.postgres = PrivatePostgres()
        self.redis = PrivateRedis(persistent=False)
        self.processes: list[subprocess.Popen] = []
        self.storage_root = storage_root

    def start(self) -> dict:
        self.postgres.start()
        self.postgres.create_database("ipdreview")
        self.redis.start()
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "ipdreview.settings.base",
            "DJANGO_DEBUG": "0",
            "DATABASE_URL": self.postgres.url("ipdreview"),
            "REDIS_URL": self.redis.url(),
            "DATASET_STORAGE_ROOT": str(self.storage_root),
            "JOBS_HEARTBEAT_SECONDS": str(HEARTBEAT_SECONDS),
            "JOBS_STALE_AFTER_SECONDS": str(STALE_SECONDS),
            "JOBS_RESEND_QUEUED_AFTER_SECONDS": str(STALE_SECONDS),
            "JOBS_REAP_EVERY_SECONDS": str(REAP_EVERY_SECONDS),
            "DJANGO_LOG_LEVEL": "WARNING",
        }
        return self.env

    def spawn(self, command: list[str], log: str) -> subprocess.Popen:
        handle = open(self.storage_root.parent / log, "a")  # noqa: SIM115  (kept open for the process's life)
        process = subprocess.Popen(command, cwd=ROOT, env=self.env, stdout=handle, stderr=subprocess.STDOUT,
                                   start_new_session=True)  # fmt: skip
        self.processes.append(process)
        return process

    def worker(self) -> subprocess.Popen:
        from ipdreview.celery import QUEUES

        return self.spawn(
            [sys.executable, "-m", "celery", "-A", "ipdreview", "worker", "--concurrency", "2", "--loglevel", "INFO",
             "--queues", ",".join(QUEUES), "--without-gossip", "--without-mingle",
             f"--hostname=faults-{time.monotonic_ns()}@%h"],
            "worker.log",
        )  # fmt: skip

    def beat(self, name: str) -> subprocess.Popen:
        schedule = self.storage_root.parent / f"beat-{name}"
        return self.spawn(
            [sys.executable, "-m", "celery", "-A", "ipdreview", "beat", "--loglevel", "INFO", "-s", str(schedule)],
            f"beat-{name}.log",
        )

    def web(self, port: int) -> subprocess.Popen:
        env = {"DJANGO_SETTINGS_MODULE": "ipdreview.settings.production", "DJANGO_SECURE_SSL_REDIRECT": "0",
               "DJANGO_SECRET_KEY": "faults-benchmark-key-0123456789-abcdefghijklmnopqrstuvwxyz-ABCDEF",
               "DJANGO_ALLOWED_HOSTS": "127.0.0.1"}  # fmt: skip
        self.env.update(env)
        return self.spawn(
            [sys.executable, "-m", "gunicorn", "ipdreview.wsgi:application", "--bind", f"127.0.0.1:{port}",
             "--workers", "2", "--log-level", "warning"],
            "web.log",
        )  # fmt: skip

    def workers_down(self) -> None:
        for process in self.processes:
            if "worker" in process.args and process.poll() is None:
                self.kill(process)

    @staticmethod
    def kill(process: subprocess.Popen) -> None:
        """SIGKILL the process and its children (a parse runs in a child of the worker's pool)."""
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        process.wait(timeout=30)

    def stop_all(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                try:
                    os.killpg(process.pid, signal.SIGTERM)
                    process.wait(timeout=20)
                except (ProcessLookupError, subprocess.TimeoutExpired):
                    self.kill(process)
        self.redis.destroy()
        self.postgres.destroy()


def wait(condition, *, timeout: float, every: float = 0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(every)
    return None


def prepare(env: dict, storage_root: Path, rows: int) -> Context:
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
    os.environ.update(env)
    import django

    django.setup()
    from django.contrib.auth import get_user_model

    from apps.accounts.models import Membership, Role
    from apps.reviews.models import Review
    from apps.trials.models import Agreement, Trial

    actor = get_user_model().objects.create_user(username="faults", password="faults-password-123")
    review = Review.objects.create(title="Faults")
    Membership.objects.create(review=review, user=actor, role=Role.COORDINATOR)
    trial = Trial.objects.create(review=review, title="Faults trial")
    Agreement.objects.create(trial=trial, status=Agreement.Status.SIGNED)
    return Context(actor=actor, trial=trial, storage_root=storage_root, rows=rows)


def _job(job_id: int):
    from apps.jobs.models import Job

    return Job.objects.get(pk=job_id)


def _running_jobs() -> int:
    from apps.jobs.models import Job

    return Job.objects.filter(state=Job.State.RUNNING).count()


def worker_killed(services: Services, context: Context, kind: JobKind) -> tuple[str, str, bool]:
    """Kill the worker as soon as the job runs; a new worker comes up (as a supervisor would start one)."""
    services.workers_down()  # the job must go to the worker that is killed
    worker = services.worker()
    time.sleep(3)  # the worker's start-up
    job_id = kind.queue_job(context)
    running = wait(lambda: _job(job_id).state == "running", timeout=120)
    if not running:
        services.kill(worker)
        job = _job(job_id)
        return f"worker killed: {kind.name}", f"job never ran ({job.state}: {job.error})", False
    killed_at = time.monotonic()
    progress = _job(job_id).progress
    services.kill(worker)
    services.worker()
    budget = STALE_SECONDS + REAP_EVERY_SECONDS + 120
    finished = wait(lambda: _job(job_id).is_finished, timeout=budget, every=0.2)
    seconds = time.monotonic() - killed_at
    job = _job(job_id)
    wait(lambda: _running_jobs() == 0, timeout=60, every=0.5)  # an automatic check run after an apply, say
    left_running = _running_jobs()
    if not finished:
        return f"worker killed: {kind.name}", f"still {job.state} after {seconds:.0f} s", False
    outcome = job.state if job.state == "succeeded" else f"failed: {job.error[:80]}"
    figures = (f"killed at {progress}%; {outcome} after {seconds:.1f} s (attempt {job.attempts}); "
               f"{left_running} job(s) left running")  # fmt: skip
    ok = job.state == "succeeded" or bool(job.error)
    return f"worker killed: {kind.name}", figures, ok and left_running == 0


def _reaper_runs():
    from apps.jobs.models import PeriodicRun

    return list(PeriodicRun.objects.filter(name="jobs-reap-stale").values_list("slot", "started_at"))


def beat_killed(services: Services, beat: subprocess.Popen) -> tuple[str, str, bool]:
    """Kill beat, start another, and run a second beat beside it for a while (two schedulers at once)."""
    before = len(_reaper_runs())
    services.kill(beat)
    killed_at = time.monotonic()
    services.beat("restarted")
    resumed = wait(lambda: len(_reaper_runs()) > before, timeout=60, every=0.2)
    gap = time.monotonic() - killed_at
    second = services.beat("second")
    time.sleep(5 * REAP_EVERY_SECONDS)
    services.kill(second)
    runs = _reaper_runs()
    slots = [slot for slot, _ in runs]
    duplicates = len(slots) - len(set(slots))
    figures = (f"reaper ran again {gap:.1f} s after the kill; {len(runs) - before} runs since, "
               f"{duplicates} run twice for one period with two beats up")  # fmt: skip
    return "beat killed and restarted (+ a second beat)", figures, bool(resumed) and duplicates == 0


def redis_restarted(services: Services, context: Context, workers_down: Callable) -> tuple[str, str, bool]:
    """A job waits in Redis with no worker up; Redis restarts and loses it; the reaper must send it again."""
    workers_down()
    job_id = queue_parse_small(context)
    request = api_request(services, context)
    services.redis.stop()
    # The web app while Redis is down: its cache fails open, so the API answers from the database.
    statuses = [_status(request) for _ in range(20)]
    services.redis.start()
    back_at = time.monotonic()
    services.worker()
    finished = wait(lambda: _job(job_id).is_finished, timeout=STALE_SECONDS + 120, every=0.2)
    seconds = time.monotonic() - back_at
    job = _job(job_id)
    web_errors = sum(status != 200 for status in statuses)
    figures = (f"the lost job was sent again and {job.state} {seconds:.1f} s after Redis came back; "
               f"API while Redis was down: {web_errors} errors in {len(statuses)}")  # fmt: skip
    ok = bool(finished) and job.state == "succeeded" and web_errors == 0
    return "Redis restarted, queued message lost", figures, ok


def queue_parse_small(context: Context) -> int:
    from django.core.files import File

    from apps.datasets.services import dataset_upload

    path = context.storage_root.parent / "small.csv"
    _write_csv(path, 2_000, seed=7)
    with path.open("rb") as handle:
        version, _ = dataset_upload(trial=context.trial, actor=context.actor, file=File(handle, name="small.csv"))
    return _parse_job_id(version)


def api_request(services: Services, context: Context) -> urllib.request.Request:
    """The trial list API of the faults' review, served by gunicorn (started on first use)."""
    if "api_request" not in context.objects:
        from apps.accounts.tokens import token_create

        token, _ = token_create(user=context.actor)
        port = free_port()
        services.web(port)
        url = f"http://127.0.0.1:{port}/api/v1/reviews/{context.trial.review_id}/trials/"
        request = urllib.request.Request(url, headers={"Authorization": f"Token {token}"})
        if not wait(lambda: _status(request) == 200, timeout=60, every=0.3):
            raise RuntimeError("the web server did not answer")
        context.objects["api_request"] = request
    return context.objects["api_request"]


def postgres_restarted(services: Services, context: Context) -> tuple[str, str, bool]:
    """API requests every 50 ms while PostgreSQL runs, is stopped for 5 s, and is back."""
    request = api_request(services, context)
    phase = {"name": "before"}
    counts: dict = {}
    stop = threading.Event()

    def client():
        while not stop.is_set():
            status = _status(request)
            bucket = counts.setdefault(phase["name"], [0, 0])
            bucket[0] += 1
            bucket[1] += status != 200
            time.sleep(0.05)

    thread = threading.Thread(target=client)
    thread.start()
    time.sleep(3)
    phase["name"] = "down"
    from django.db import connection

    connection.close()
    services.postgres.stop()
    time.sleep(5)
    services.postgres.start()
    phase["name"] = "after"
    time.sleep(5)
    stop.set()
    thread.join()
    parts = [f"{name}: {counts.get(name, [0, 0])[1]} errors in {counts.get(name, [0, 0])[0]}"
             for name in ("before", "down", "after")]  # fmt: skip
    ok = counts.get("before", [0, 0])[1] == 0 and counts.get("after", [0, 0])[1] == 0
    return "PostgreSQL restarted under API requests", "; ".join(parts), ok


def _status(request) -> int:
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except OSError:
        return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows of the parsed and checked file")
    parser.add_argument("--fault", action="append", help="only the faults whose name starts so")
    args = parser.parse_args()
    wanted = (lambda name: any(name.startswith(prefix) for prefix in args.fault)) if args.fault else (lambda _: True)

    workdir = Path(tempfile.mkdtemp(prefix="ipdreview-faults-"))
    services = Services(workdir / "datasets")
    rows = []
    try:
        env = services.start()
        context = prepare(env, services.storage_root, args.rows)
        beat = services.beat("first")
        for kind in JOB_KINDS:
            if wanted(f"worker killed: {kind.name}") or kind is not JOB_KINDS[-1]:
                # Each kind works on the one before's result, so earlier kinds run even when not reported.
                row = worker_killed(services, context, kind)
                if wanted(row[0]):
                    rows.append(row)
        if wanted("beat"):
            rows.append(beat_killed(services, beat))

        if wanted("Redis"):
            rows.append(redis_restarted(services, context, services.workers_down))
        if wanted("PostgreSQL"):
            rows.append(postgres_restarted(services, context))
    finally:
        services.stop_all()
        # The logs stay for reading; the generated files go.
        shutil.rmtree(services.storage_root, ignore_errors=True)
        for path in workdir.glob("*.csv"):
            path.unlink()
    print(f"\nstale after {STALE_SECONDS} s, reaper every {REAP_EVERY_SECONDS} s, heartbeat {HEARTBEAT_SECONDS} s, "
          f"{args.rows:,} rows; logs in {workdir}\n")  # fmt: skip
    print("| fault | outcome | as expected |")
    print("|---|---|---|")
    for name, figures, ok in rows:
        print(f"| {name} | {figures} | {'yes' if ok else 'NO'} |")
    return 0 if all(ok for _, _, ok in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
