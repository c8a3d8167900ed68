"""The forest plot's definition: one square per pooled trial with its area following its weight, a diamond per
pooled result, a logarithmic axis with natural ticks for ratios, CIs beyond the axis as arrows, excluded trials
with their reason, a mark on trials with unresolved integrity failures, and 'favours' on the right sides."""

import json
import math

import pytest

from apps.analyses import figures
from apps.analyses.models import Analysis, AnalysisRun
from apps.analyses.presentation import forest, sort_rows
from tests.factories import ReviewFactory

pytestmark = pytest.mark.django_db


def per_trial(trial, estimate, se, excluded=False, reason=None, source="ipd"):
    return {
        "trial": str(trial),
        "n": 100,
        "estimate": estimate,
        "se": se,
        "excluded": excluded,
        "reason": reason,
        "source": source,
    }


def make_run(rows, *, measure="OR", outcome="binary", tau2=0.04, integrity=None, aggregate=False) -> AnalysisRun:
    """A stored run as the worker leaves it, its result written by hand so each element can be asked for."""
    pooled = {"estimate": -0.2, "se": 0.1, "ci_low": -0.396, "ci_high": -0.004, "p": 0.04, "k": 3, "df": None}
    spec = {
        "outcome": outcome,
        "measure": measure,
        "approach": "two-stage",
        "columns": {},
        "tau2": "REML",
        "ci": "wald",
    }
    if aggregate:
        spec["aggregate"] = [
            {"trial": row["trial"], "estimate": row["estimate"], "se": row["se"]}
            for row in rows
            if row["source"] == "aggregate"
        ]
    summary = {
        "trials": {
            row["trial"]: {
                "label": f"NCT{row['trial']} T{row['trial']}",
                "year": 2000 + int(row["trial"]),
                "registry_id": f"NCT{row['trial']}",
            }
            for row in rows
        },
        "arms": {
            row["trial"]: {"intervention": {"n": 50, "events": 5}, "control": {"n": 50, "events": 8}}
            for row in rows
            if row["source"] == "ipd"
        },
        "integrity": integrity or {},
    }
    if aggregate:
        summary["groups"] = {"ipd": {"pooled": pooled | {"k": 2}}, "aggregate": {"pooled": pooled | {"k": 1}}}
    review = ReviewFactory()
    analysis = Analysis(review=review, name="x", measure=measure)
    run = AnalysisRun(analysis=analysis, review=review, spec=spec, summary=summary, state="succeeded")
    run.result = {
        "per_trial": rows,
        "pooled": pooled,
        "heterogeneity": {"tau2": tau2, "I2": 30.0, "Q": 4.0, "Q_df": 2, "Q_p": 0.13, "method": "REML"},
        "prediction_interval": [-1.0, 0.6],
    }
    return run


ROWS = [per_trial(1, -0.5, 0.2), per_trial(2, 0.1, 0.3), per_trial(3, -0.2, 0.1)]


def traces(figure, name):
    return [trace for trace in figure["data"] if trace.get("name") == name]


def test_squares_follow_the_weights_and_the_axis_is_logarithmic_with_natural_ticks():
    built = forest(make_run(ROWS))
    weights = {row.trial: row.weight for row in built.rows}
    inverse = {str(i + 1): 1 / (row["se"] ** 2 + 0.04) for i, row in enumerate(ROWS)}
    for trial, weight in weights.items():
        assert math.isclose(weight, 100 * inverse[trial] / sum(inverse.values()))
    figure = figures.forest_figure(built, higher_is_better=False)
    squares = traces(figure, "Trial estimate")[0]
    assert squares["x"] == pytest.approx([math.exp(-0.5), math.exp(0.1), math.exp(-0.2)])
    # Area proportional to weight: the side goes with its square root.
    sides = dict(zip(squares["x"], squares["marker"]["size"], strict=True))
    heaviest, lightest = max(weights.values()), min(weights.values())
    assert max(sides.values()) / min(sides.values()) == pytest.approx(math.sqrt(heaviest / lightest))
    axis = figure["layout"]["xaxis"]
    assert axis["type"] == "log"
    assert 1 in axis["tickvals"] and set(axis["ticktext"]) <= {"0.1", "0.25", "0.5", "1", "2", "4", "10"}
    assert len([trace for trace in figure["data"] if trace.get("fill") == "toself"]) == 1
    interval = traces(figure, "Prediction interval")[0]
    assert interval["x"] == pytest.approx([math.exp(-1.0), math.exp(0.6)])
    assert any("Heterogeneity: τ² = 0.040, I² = 30.0%" in note["text"] for note in figure["layout"]["annotations"])


def test_favours_sit_on_the_side_the_outcome_says():
    built = forest(make_run(ROWS))

    def sides(figure):
        return [note["text"] for note in figure["layout"]["annotations"] if "avours" in note["text"]]

    assert sides(figures.forest_figure(built, higher_is_better=False)) == [
        "← Favours intervention",
        "Favours control →",
    ]
    assert sides(figures.forest_figure(built, higher_is_better=True)) == ["← Favours control", "Favours intervention →"]


def test_a_continuous_outcome_has_a_linear_axis_and_n_per_arm():
    built = forest(make_run(ROWS, measure="MD", outcome="continuous"))
    figure = figures.forest_figure(built, higher_is_better=False)
    assert "type" not in figure["layout"]["xaxis"]
    assert traces(figure, "Trial estimate")[0]["x"] == pytest.approx([-0.5, 0.1, -0.2])
    intervention = traces(figure, "Intervention N")[0]["text"]
    assert "50" in intervention and not any("/" in text for text in intervention)


def test_a_ci_beyond_the_axis_ends_in_an_arrow():
    rows = ROWS + [per_trial(4, -0.1, 3.0)]  # CI from about 0.002 to 320
    figure = figures.forest_figure(forest(make_run(rows)), higher_is_better=False)
    arrows = traces(figure, "CI beyond the axis")
    assert {trace["marker"]["symbol"] for trace in arrows} == {"triangle-left", "triangle-right"}
    low, high = (10**bound for bound in figure["layout"]["xaxis"]["range"])
    lines = [value for value in traces(figure, "95% CI")[0]["x"] if value is not None]
    assert min(lines) >= low * (1 - 1e-12) and max(lines) <= high * (1 + 1e-12)


def test_an_excluded_trial_is_listed_with_its_reason_and_has_no_square():
    rows = ROWS + [per_trial(4, None, None, excluded=True, reason="no events in either arm")]
    built = forest(make_run(rows))
    assert [row.trial for row in built.rows][-1] == "4"  # excluded trials come last
    figure = figures.forest_figure(built, higher_is_better=False)
    assert len(traces(figure, "Trial estimate")[0]["x"]) == 3
    estimates = traces(figure, "OR (95% CI)")[0]["text"]
    assert "excluded: no events in either arm" in estimates


def test_trials_with_unresolved_failures_are_marked():
    integrity = {"2": {"state": "unresolved_findings", "unresolved": [{"finding": 1, "code": "x", "title": "Ids"}]}}
    figure = figures.forest_figure(forest(make_run(ROWS, integrity=integrity)), higher_is_better=False)
    labels = traces(figure, "Trial")[0]["text"]
    assert "NCT2 T2 †" in labels and "NCT1 T1" in labels
    assert any("† unresolved integrity failures" in note["text"] for note in figure["layout"]["annotations"])


def test_ipd_and_aggregate_trials_are_grouped_with_a_diamond_each():
    rows = [per_trial(1, -0.5, 0.2), per_trial(2, 0.1, 0.3), per_trial(3, -0.2, 0.1, source="aggregate")]
    figure = figures.forest_figure(forest(make_run(rows, aggregate=True)), higher_is_better=False)
    labels = traces(figure, "Trial")[0]["text"]
    assert labels.index("<b>Trials with IPD</b>") < labels.index("NCT1 T1")
    assert labels.index("<b>Trials without IPD (published results)</b>") < labels.index("NCT3 T3")
    assert len([trace for trace in figure["data"] if trace.get("fill") == "toself"]) == 3


@pytest.mark.parametrize(
    ("sort", "order"),
    [("trial", ["1", "2", "3"]), ("effect", ["1", "3", "2"]), ("weight", ["3", "1", "2"]), ("year", ["1", "2", "3"])],
)
def test_trials_sort_by_trial_effect_weight_or_year(sort, order):
    assert [row.trial for row in sort_rows(forest(make_run(ROWS)).rows, sort)] == order


def test_a_hundred_trials_make_a_figure_well_under_a_megabyte():
    rows = [per_trial(number, -0.1 + 0.002 * number, 0.2 + 0.001 * number) for number in range(1, 101)]
    figure = figures.forest_figure(forest(make_run(rows)), higher_is_better=False)
    assert len(json.dumps(figure)) < 1_000_000
    assert len(traces(figure, "Trial estimate")[0]["x"]) == 100


def test_square_areas_follow_weights_down_to_a_hundredth_of_the_heaviest():
    rows = [per_trial(1, -0.2, 0.05), per_trial(2, -0.1, 0.3162)]  # inverse variances 400 and 10: 40 to 1
    built = forest(make_run(rows, tau2=0.0))
    weights = sorted(row.weight for row in built.rows)
    sides = sorted(traces(figures.forest_figure(built, higher_is_better=False), "Trial estimate")[0]["marker"]["size"])
    assert (sides[1] / sides[0]) ** 2 == pytest.approx(weights[1] / weights[0], rel=1e-3)


def test_time_to_event_favours_follow_the_hazard():
    """HR below 1: fewer (later) events in the intervention arm, which favours it when the event is bad."""
    built = forest(make_run(ROWS, measure="HR", outcome="survival"))
    notes = [note["text"] for note in figures.forest_figure(built, higher_is_better=False)["layout"]["annotations"]]
    assert "← Favours intervention" in notes and "Favours control →" in notes


def test_a_prediction_interval_wider_than_the_axis_ends_in_arrows():
    run = make_run(ROWS)
    run.result["prediction_interval"] = [-9.0, 9.0]  # three trials: t with one degree of freedom
    figure = figures.forest_figure(forest(run), higher_is_better=False)
    interval = traces(figure, "Prediction interval")[0]
    assert interval["marker"]["symbol"] == ["triangle-left", "triangle-right"]
    low, high = (10**bound for bound in figure["layout"]["xaxis"]["range"])
    assert interval["x"] == pytest.approx([low, high])
    assert high < 100  # the axis follows the trials, not the interval


def test_a_plot_with_nothing_to_draw_still_has_an_axis():
    plot = figures.Plot(
        [figures.Row({"label": "leave out X", "estimate": "No trial is left to pool."}, shape="heading")],
        [figures.Column("label", "Trial", "left", 0.0)],
        True,
        "OR",
    )
    low, high = figures.figure(plot)["layout"]["xaxis"]["range"]
    assert low < 0 < high


def test_long_reasons_are_shortened_at_a_word():
    assert figures.shorten("excluded: no participant had the event in either arm of this trial at all", 40) == (
        "excluded: no participant had the event…"
    )
