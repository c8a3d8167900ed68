"""PRISMA-IPD benchmark: the flow diagram of a review of 2,000 trials, rendered by the app, and its server time.

    .venv/bin/python benchmarks/prisma.py                  # 2,000 trials
    .venv/bin/python benchmarks/prisma.py --trials 5000

Needs PostgreSQL (DATABASE_URL; default: the local service, a database named ipdreview_bench_prisma). It migrates
the benchmark database and builds a review whose trials stand at every place of the flow, with free-text
exclusion reasons, a share of incomplete records, and two outcomes whose primary analyses have a succeeded run of
500 IPD trials and 40 published results (the run records are written directly: the engine is not what is timed
here). Then it asks the app, through Django's test client in this process (URL routing, authentication, access,
the queries, the layout and the template: everything but the network), for the diagram's page, its SVG, its JSON
and its PNG, several times each, and prints the median and best server times and the sizes.

Target: the diagram (page or SVG) in at most 300 ms of server time.
"""

import argparse
import os
import random
import statistics
import sys
import time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

TITLE = "PRISMA-IPD benchmark review"
SEED = 20261211
REPEATS = 7


def ensure_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as connection:
        if not connection.execute("select 1 from pg_database where datname = %s", [name]).fetchone():
            connection.execute(f'create database "{name}"')


def setup_django() -> None:
    os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/ipdreview_bench_prisma")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ipdreview.settings.base")
    os.environ["DJANGO_ALLOWED_HOSTS"] = "testserver,localhost"
    ensure_database(os.environ["DATABASE_URL"])
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def trial_fields(rng: random.Random, number: int) -> dict:
    """A trial somewhere in the flow, as reviews hold them: most sought, some provided, some not, a few
    incomplete records."""
    from apps.trials.lifecycle import Status

    fields = {
        "registry_id": f"NCT{number:08d}",
        "title": f"Trial {number}: a randomised comparison",
        "year": rng.randint(1995, 2025),
        "n_randomised": rng.randint(40, 3000) if rng.random() > 0.02 else None,
        "identified_via": "other" if rng.random() < 0.15 else "database",
        "status": Status.IDENTIFIED,
    }
    place = rng.random()
    if place < 0.05:
        return fields | {"is_duplicate": True}
    if place < 0.08:
        return fields
    if place < 0.30:
        reasons = ["Not randomised", "Wrong population", "Wrong comparator", f"Other: protocol {number % 37}"]
        return fields | {"screening_decision": "excluded", "exclusion_reason": rng.choice(reasons),
                         "status": Status.NOT_ELIGIBLE}  # fmt: skip
    fields |= {"screening_decision": "included", "status": Status.ELIGIBLE}
    if place < 0.34:
        return fields | {"ipd_sought": False, "ipd_not_sought_reason": rng.choice(["Too small", "Not in English"])}
    if place < 0.36:
        return fields
    fields |= {"ipd_sought": True, "status": Status.CONTACTED}
    if place < 0.60:
        n = fields["n_randomised"] or 100
        return fields | {"ipd_provided": True, "n_provided": n - n // 20, "n_not_provided": n // 20,
                         "n_not_provided_reason": rng.choice(["Consent withdrawn", "Lost to follow-up"]),
                         "status": Status.INCLUDED}  # fmt: skip
    if place < 0.85:
        reason = rng.choice(["no_response", "declined", "data_lost", "legal_or_ethical", "not_in_time"])
        return fields | {"ipd_provided": False, "ipd_not_provided_reason": reason,
                         "aggregate_available": rng.random() < 0.6, "status": Status.DECLINED}  # fmt: skip
    if place < 0.87:
        return fields | {"status": Status.WITHDRAWN}
    return fields


def build_review(trials: int):
    from django.contrib.auth import get_user_model

    from apps.accounts.models import Membership, Role
    from apps.analyses.models import Analysis, AnalysisRun, RunKind, RunState
    from apps.harmonisation.models import SchemaVariable
    from apps.reviews.models import Outcome, Review
    from apps.trials.models import Trial

    title = f"{TITLE} ({trials} trials)"
    user, _ = get_user_model().objects.get_or_create(username="prisma-bench")
    review = Review.objects.filter(title=title).first()
    if review is not None:
        return review, user
    rng = random.Random(SEED)
    review = Review.objects.create(title=title, registration="PROSPERO CRD42026999999")
    Membership.objects.create(review=review, user=user, role=Role.REVIEWER)
    Trial.objects.bulk_create([Trial(review=review, **trial_fields(rng, number)) for number in range(1, trials + 1)])
    provided = list(Trial.objects.filter(review=review, ipd_provided=True).values_list("pk", flat=True))[:500]
    published = list(Trial.objects.filter(review=review, ipd_provided=False).values_list("pk", flat=True))[:40]
    treatment = SchemaVariable.objects.create(review=review, name="ARM", role="treatment", type="category")
    death = SchemaVariable.objects.create(review=review, name="DEATH", role="outcome", type="integer")
    for number, (name, kind, measure) in enumerate((("Mortality", "binary", "OR"), ("Stroke", "binary", "OR"))):
        outcome = Outcome.objects.create(review=review, name=name, type=kind, measure=measure, is_primary=number == 0)
        analysis = Analysis.objects.create(
            review=review, outcome=outcome, name=f"{name}, two-stage", measure=measure, tau2="REML", ci="wald",
            treatment=treatment, outcome_variable=death, is_primary=True, aggregate=True,
        )  # fmt: skip
        AnalysisRun.objects.create(
            analysis=analysis,
            review=review,
            kind=RunKind.ANALYSIS,
            state=RunState.SUCCEEDED,
            spec={
                "outcome": kind,
                "measure": measure,
                "approach": "two-stage",
                "tau2": "REML",
                "ci": "wald",
                "aggregate": [{"trial": str(pk), "estimate": -0.2, "se": 0.2} for pk in published],
            },  # fmt: skip
            inputs=[{"trial": pk, "harmonised_table": pk, "sha256": "0" * 64, "n": 500} for pk in provided],
            left_out=[{"trial": provided[0], "label": "Trial", "reason": "no harmonised table yet."}],
            aggregate_rows=[{"trial": pk, "label": f"Trial {pk}", "estimate": -0.2, "se": 0.2} for pk in published],
            input_sha256="0" * 64,
            result={
                "per_trial": [
                    {
                        "trial": str(pk),
                        "estimate": -0.2,
                        "se": 0.2,
                        "excluded": pk % 50 == 0,
                        "reason": "no events in either arm" if pk % 50 == 0 else None,
                        "source": "ipd",
                    }
                    for pk in provided[1:]
                ]
            },  # fmt: skip
            summary={
                "arms": {str(pk): {"analysed": 480, "rows_missing": 15, "other_arm_codes": 5} for pk in provided},
                "trials": {str(pk): {"label": f"Trial {pk}", "n_randomised": 200} for pk in provided + published},
                "aggregate_left_out": [],
            },  # fmt: skip
        )
    return review, user


def timed(client, url: str) -> tuple[list[float], int, int]:
    durations, size, status = [], 0, 0
    for _ in range(REPEATS):
        started = time.perf_counter()
        response = client.get(url)
        durations.append(time.perf_counter() - started)
        size, status = len(response.content), response.status_code
    return durations, size, status


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=2000)
    arguments = parser.parse_args()
    setup_django()
    from django.test import Client
    from django.test.utils import setup_test_environment

    setup_test_environment()
    warnings.filterwarnings("ignore", message="No directory at")  # static files are not collected here
    review, user = build_review(arguments.trials)
    client = Client()
    client.force_login(user)
    from apps.trials.models import Trial

    print(f"Review of {Trial.objects.filter(review=review).count():,} trials (review #{review.pk})")
    targets = {
        "page (HTML with the inline SVG)": f"/reviews/{review.pk}/prisma-ipd/",
        "SVG (API)": f"/api/v1/reviews/{review.pk}/prisma-ipd.svg",
        "JSON (API)": f"/api/v1/reviews/{review.pk}/prisma-ipd/",
        "PNG (cairosvg)": f"/reviews/{review.pk}/prisma-ipd.png",
        "trial list of one box (?prisma=excluded)": f"/reviews/{review.pk}/trials/?prisma=excluded",
    }
    client.get(targets["SVG (API)"])  # warm: imports and the first connection
    for name, url in targets.items():
        durations, size, status = timed(client, url)
        assert status == 200, (url, status)
        print(
            f"{name:42s} median {1000 * statistics.median(durations):6.1f} ms   best {1000 * min(durations):6.1f} ms"
            f"   {size / 1024:7.1f} KB"
        )
    print("Target: the diagram (page or SVG) in at most 300 ms of server time.")


if __name__ == "__main__":
    main()
