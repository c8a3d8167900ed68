"""The demo review's analyses: loaded with results, and the published results of its trials agree with their
generated data except the one trial whose paper reports an adjusted odds ratio (its finding says why)."""

from io import StringIO

import pytest
from django.core.management import call_command

from apps.analyses.models import Analysis, AnalysisRun, RunKind
from apps.checks.models import CheckResult
from apps.demo.builder import ADJUSTED_IN_PAPER, DEMO_REGISTRATION
from apps.reviews.models import Review

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(dataset_root):
    call_command("load_demo", stdout=StringIO())
    return Review.objects.get(registration=DEMO_REGISTRATION)


def test_the_demo_has_three_analyses_with_results(demo):
    analyses = {analysis.name: analysis for analysis in Analysis.objects.filter(review=demo)}
    assert len(analyses) == 3
    approaches = {(a.outcome.type, a.approach, bool(a.interaction_id)) for a in analyses.values()}
    assert approaches == {
        ("binary", "two-stage", False),
        ("binary", "one-stage", False),
        ("continuous", "two-stage", True),
    }
    for analysis in analyses.values():
        run = analysis.runs.get(kind=RunKind.ANALYSIS)
        assert run.state == AnalysisRun.State.SUCCEEDED, run.error
        assert run.result["pooled"]["k"] == len(run.inputs) >= 3
    interaction = next(a for a in analyses.values() if a.interaction_id).runs.get().result["interaction"]
    assert interaction["pooled"]["k"] >= 3
    primary = next(a for a in analyses.values() if a.is_primary and a.outcome.type == "binary")
    family = primary.runs.get(kind=RunKind.SENSITIVITY)
    assert family.state == AnalysisRun.State.SUCCEEDED
    assert [entry["label"] for entry in family.result["analyses"]][:4] == [
        "as specified",
        "fixed effect",
        "HKSJ",
        "one-stage",
    ]


def test_the_published_results_agree_with_the_data_but_one_whose_finding_says_why(demo):
    verdicts = {
        result.run.trial.registry_id: result
        for result in CheckResult.objects.filter(run__trial__review=demo, code="primary_result")
    }
    assert len(verdicts) >= 3
    for registry_id, result in verdicts.items():
        if registry_id == ADJUSTED_IN_PAPER:
            assert result.status == "fail" and result.sentence.startswith("Discrepant")
            assert result.finding.status == "resolved"
            assert "adjusted for severity and age" in result.finding.resolution_note
        else:
            assert result.status == "pass", (registry_id, result.sentence)
            assert result.sentence.startswith("Reproduced")
