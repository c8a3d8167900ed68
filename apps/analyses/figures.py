"""Plotly figure definitions, as plain JSON: one per plot, serving the page, the API and the downloads.

A forest plot is a set of rows on one shared vertical axis: text columns left and right of the effect axis,
squares sized by weight (area proportional to it) with their CIs, diamonds for pooled results, a prediction
interval, a line at no effect and, under the axis, which side favours which arm. Ratios use a logarithmic
axis with natural tick labels; a CI running past the axis ends in an arrow.
"""

import math
from dataclasses import dataclass, field

from apps.analyses.presentation import (
    MEASURE_NAMES,
    Forest,
    heterogeneity_sentence,
    interval,
    number,
)
from apps.analyses.scales import is_ratio, on_scale, wald_interval

ROW_HEIGHT = 24
HEADER_Y = -1.2
COLOUR = "#1f4e79"
DIAMOND = "#7a3b00"
MUTED = "#5b6470"
FLAG = "†"
RATIO_TICKS = (0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2, 4, 10, 20, 50, 100)
FINE_RATIO_TICKS = (0.5, 0.67, 0.8, 0.9, 1, 1.1, 1.25, 1.5, 2)
LINEAR_TICKS = 7
# Squares: the side of the heaviest trial's, and the smallest side drawn (area proportional to weight down to
# (2.5 / 24)^2, about 1% of the heaviest trial's weight; lighter trials keep the smallest square).
LARGEST_SIDE = 24.0
SMALLEST_SIDE = 2.5


@dataclass
class Column:
    key: str
    heading: str
    side: str  # "left" or "right" of the effect axis
    x: float  # position in the side's own 0..1 axis
    align: str = "left"


@dataclass
class Row:
    """One line of a forest plot: an estimate with its CI (a square), a pooled one (a diamond), or text only."""

    cells: dict[str, str]
    estimate: float | None = None
    low: float | None = None
    high: float | None = None
    size: float | None = None  # percent weight: the square's area follows it
    shape: str = "square"  # square, diamond, heading, interval
    hover: str = ""
    bold: bool = False


@dataclass
class Plot:
    rows: list[Row]
    columns: list[Column]
    ratio: bool
    axis_title: str
    favours: tuple[str, str] | None = None
    notes: list[str] = field(default_factory=list)
    title: str = ""


def _axis_range(plot: Plot) -> tuple[float, float]:
    """Spans every estimate, the pooled CIs and no effect; and the trials' CIs and the prediction interval unless
    one would stretch the axis more than its core width again on a side: that one runs past the axis and ends in
    an arrow. For ratios the range is in log10 units, as plotly's logarithmic axes take it."""
    scale = (lambda value: math.log10(value)) if plot.ratio else (lambda value: value)

    def usable(values):
        return [scale(value) for value in values if value is not None and (value > 0 or not plot.ratio)]

    core = usable([row.estimate for row in plot.rows])
    core += usable([value for row in plot.rows if row.shape == "diamond" for value in (row.low, row.high)])
    core.append(0.0)  # no effect: log10(1) or 0
    low, high = min(core), max(core)
    width = max(high - low, 0.3 if plot.ratio else max(abs(high), abs(low), 1.0))
    bounds = usable(
        [value for row in plot.rows if row.shape in ("square", "interval") for value in (row.low, row.high)]
    )
    low = min([low, *(value for value in bounds if value >= low - width)])
    high = max([high, *(value for value in bounds if value <= high + width)])
    if high - low < 1e-9:  # nothing but no effect to show
        low, high = low - width / 2, high + width / 2
    pad = 0.06 * (high - low)
    return low - pad, high + pad


def _ticks(plot: Plot, bounds: tuple[float, float]) -> dict:
    """Natural ticks on a ratio axis: powers of two near 1 and decades further out, finer when the range is narrow."""
    if not plot.ratio:
        return {"nticks": LINEAR_TICKS, "zeroline": False}
    low, high = 10 ** bounds[0], 10 ** bounds[1]
    values = [value for value in RATIO_TICKS if low <= value <= high]
    if len(values) < 3:
        values = [value for value in FINE_RATIO_TICKS if low <= value <= high]
    if len(values) > 7:
        values = [value for value in values if value in (0.01, 0.1, 0.25, 0.5, 1, 2, 4, 10, 100)]
    return {"tickvals": values, "ticktext": [f"{value:g}" for value in values], "type": "log"}


def shorten(text: str, limit: int = 60) -> str:
    """Text cut at a word boundary to fit a plot's column; the hover and the table keep it whole."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0]
    return f"{cut}…"


def _text_trace(plot: Plot, column: Column, ys: list[float]) -> dict:
    texts = []
    for row in plot.rows:
        text = row.cells.get(column.key, "")
        texts.append(f"<b>{text}</b>" if row.bold and text else text)
    return {
        "type": "scatter",
        "mode": "text",
        "x": [column.x] * len(plot.rows),
        "y": ys,
        "text": texts,
        "textposition": "middle right" if column.align == "left" else "middle left",
        "xaxis": "x2" if column.side == "left" else "x3",
        "yaxis": "y",
        "hoverinfo": "skip",
        "showlegend": False,
        "textfont": {"size": 12, "color": "#1b1f24"},
        "name": column.heading,
    }


def _headings(plot: Plot) -> list[dict]:
    traces = []
    for side, axis in (("left", "x2"), ("right", "x3")):
        columns = [column for column in plot.columns if column.side == side]
        if not columns:
            continue
        traces.append(
            {
                "type": "scatter",
                "mode": "text",
                "x": [column.x for column in columns],
                "y": [HEADER_Y] * len(columns),
                "text": [f"<b>{column.heading}</b>" for column in columns],
                "textposition": ["middle right" if c.align == "left" else "middle left" for c in columns],
                "xaxis": axis,
                "yaxis": "y",
                "hoverinfo": "skip",
                "showlegend": False,
                "textfont": {"size": 12, "color": MUTED},
            }
        )
    return traces


def _clip(value: float, bounds: tuple[float, float], ratio: bool) -> tuple[float, bool]:
    low, high = (10 ** bounds[0], 10 ** bounds[1]) if ratio else bounds
    if value < low:
        return low, True
    if value > high:
        return high, True
    return value, False


def _squares(plot: Plot, ys: list[float], bounds) -> list[dict]:
    xs, yy, sizes, hovers, lines_x, lines_y = [], [], [], [], [], []
    arrows = {"triangle-left": ([], []), "triangle-right": ([], [])}
    largest = max([row.size or 0 for row in plot.rows if row.shape == "square"] or [1]) or 1
    for row, y in zip(plot.rows, ys, strict=True):
        if row.shape != "square" or row.estimate is None:
            continue
        low, low_clipped = _clip(row.low, bounds, plot.ratio)
        high, high_clipped = _clip(row.high, bounds, plot.ratio)
        lines_x += [low, high, None]
        lines_y += [y, y, None]
        if low_clipped:
            arrows["triangle-left"][0].append(low)
            arrows["triangle-left"][1].append(y)
        if high_clipped:
            arrows["triangle-right"][0].append(high)
            arrows["triangle-right"][1].append(y)
        estimate, clipped = _clip(row.estimate, bounds, plot.ratio)
        if clipped:
            continue
        xs.append(estimate)
        yy.append(y)
        # Area proportional to the weight: the side grows with its square root.
        share = (row.size if row.size is not None else largest) / largest
        sizes.append(max(SMALLEST_SIDE, LARGEST_SIDE * math.sqrt(share)))
        hovers.append(row.hover)
    traces = [
        {
            "type": "scatter",
            "mode": "lines",
            "x": lines_x,
            "y": lines_y,
            "xaxis": "x",
            "yaxis": "y",
            "line": {"color": COLOUR, "width": 1.5},
            "hoverinfo": "skip",
            "showlegend": False,
            "name": "95% CI",
        },
        {
            "type": "scatter",
            "mode": "markers",
            "x": xs,
            "y": yy,
            "xaxis": "x",
            "yaxis": "y",
            "marker": {"symbol": "square", "size": sizes, "color": COLOUR},
            "text": hovers,
            "hoverinfo": "text",
            "showlegend": False,
            "name": "Trial estimate",
        },
    ]
    for symbol, (arrow_x, arrow_y) in arrows.items():
        if arrow_x:
            traces.append(
                {
                    "type": "scatter",
                    "mode": "markers",
                    "x": arrow_x,
                    "y": arrow_y,
                    "xaxis": "x",
                    "yaxis": "y",
                    "marker": {"symbol": symbol, "size": 9, "color": COLOUR},
                    "hoverinfo": "skip",
                    "showlegend": False,
                    "name": "CI beyond the axis",
                }
            )
    return traces


def _diamonds(plot: Plot, ys: list[float], bounds) -> list[dict]:
    traces = []
    for row, y in zip(plot.rows, ys, strict=True):
        if row.shape == "diamond" and row.estimate is not None:
            traces.append(
                {
                    "type": "scatter",
                    "mode": "lines",
                    "fill": "toself",
                    "fillcolor": DIAMOND,
                    "x": [row.low, row.estimate, row.high, row.estimate, row.low],
                    "y": [y, y - 0.38, y, y + 0.38, y],
                    "xaxis": "x",
                    "yaxis": "y",
                    "line": {"color": DIAMOND, "width": 1},
                    "text": row.hover,
                    "hoveron": "fills",
                    "hoverinfo": "text",
                    "showlegend": False,
                    "name": row.cells.get("label", "Pooled"),
                }
            )
        if row.shape == "interval" and row.low is not None:
            # A prediction interval wider than the axis (three trials: t with one degree of freedom) ends in
            # arrows, as a trial's CI does.
            low, low_clipped = _clip(row.low, bounds, plot.ratio)
            high, high_clipped = _clip(row.high, bounds, plot.ratio)
            ends = [
                "triangle-left" if low_clipped else "line-ns-open",
                "triangle-right" if high_clipped else "line-ns-open",
            ]
            traces.append(
                {
                    "type": "scatter",
                    "mode": "lines+markers",
                    "x": [low, high],
                    "y": [y, y],
                    "xaxis": "x",
                    "yaxis": "y",
                    "line": {"color": DIAMOND, "width": 2, "dash": "dot"},
                    "marker": {"symbol": ends, "size": 10, "color": DIAMOND},
                    "text": row.hover,
                    "hoverinfo": "text",
                    "showlegend": False,
                    "name": "Prediction interval",
                }
            )
    return traces


def figure(plot: Plot) -> dict:
    """The plotly figure (data and layout) of a forest-type plot."""
    ys = list(range(len(plot.rows)))
    bounds = _axis_range(plot)
    null = 1.0 if plot.ratio else 0.0
    traces = [_text_trace(plot, column, ys) for column in plot.columns]
    traces += _headings(plot) + _squares(plot, ys, bounds) + _diamonds(plot, ys, bounds)
    bottom = len(plot.rows) - 0.4
    annotations = []
    if plot.favours:
        for x, anchor, text in ((0.0, "left", f"← {plot.favours[0]}"), (1.0, "right", f"{plot.favours[1]} →")):
            annotations.append(
                {
                    "xref": "x domain",
                    "yref": "paper",
                    "x": x,
                    "y": 0,
                    "yshift": -44,
                    "xanchor": anchor,
                    "yanchor": "top",
                    "text": text,
                    "showarrow": False,
                    "font": {"size": 11, "color": MUTED},
                }
            )
    for position, note in enumerate(plot.notes):
        annotations.append(
            {
                "xref": "paper",
                "yref": "paper",
                "x": 0,
                "y": 0,
                "yshift": -66 - 16 * position,
                "xanchor": "left",
                "yanchor": "top",
                "text": note,
                "showarrow": False,
                "font": {"size": 11, "color": MUTED},
            }
        )
    height = 90 + ROW_HEIGHT * (len(plot.rows) + 1.5) + 16 * len(plot.notes) + 60
    layout = {
        "height": round(height),
        "margin": {"l": 10, "r": 10, "t": 40 if plot.title else 14, "b": 80 + 16 * len(plot.notes)},
        "showlegend": False,
        "plot_bgcolor": "#ffffff",
        "paper_bgcolor": "#ffffff",
        "font": {"family": "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif", "size": 12},
        "xaxis": {
            "domain": [0.44, 0.74],
            "range": list(bounds),
            "title": {"text": plot.axis_title, "font": {"size": 12}},
            "showgrid": False,
            "ticks": "outside",
            "showline": True,
            "linecolor": "#8a929c",
            "fixedrange": True,
            **_ticks(plot, bounds),
        },
        "xaxis2": {"domain": [0.0, 0.43], "range": [0, 1], "visible": False, "fixedrange": True},
        "xaxis3": {"domain": [0.755, 1.0], "range": [0, 1], "visible": False, "fixedrange": True},
        "yaxis": {"range": [bottom + 0.2, HEADER_Y - 0.8], "visible": False, "fixedrange": True},
        "shapes": [
            {
                "type": "line",
                "xref": "x",
                "yref": "y",
                "x0": null,
                "x1": null,
                "y0": HEADER_Y + 0.6,
                "y1": bottom,
                "line": {"color": "#8a929c", "width": 1},
            }
        ],
        "annotations": annotations,
        "hovermode": "closest",
    }
    if plot.title:
        layout["title"] = {"text": plot.title, "x": 0, "xanchor": "left", "font": {"size": 14}}
    return {"data": traces, "layout": layout}


# --------------------------------------------------------------------------------------------------- forest


def exact(value) -> str:
    """A number as hover shows it: six significant digits, enough to check against a table or R."""
    return "–" if value is None else f"{value:.6g}"


def _measure_title(measure: str) -> str:
    name = MEASURE_NAMES.get(measure, measure)
    return f"{name[0].upper()}{name[1:]} ({measure}, 95% CI)"


def favours(higher_is_better: bool) -> tuple[str, str]:
    """(left, right) of no effect. Below it the intervention arm has the lower value of the measure: a smaller mean,
    or fewer events (a lower odds, risk or hazard, so for time to event: later events, longer times). That favours
    the intervention unless higher values are good (a larger mean, or more events when the event is good)."""
    if higher_is_better:
        return ("Favours control", "Favours intervention")
    return ("Favours intervention", "Favours control")


def _arm_headings(outcome: str) -> tuple[str, str]:
    if outcome == "continuous":
        return "Intervention N", "Control N"
    return "Intervention events/N", "Control events/N"


def forest_plot(forest: Forest, *, higher_is_better: bool, title: str = "") -> Plot:
    """The forest of one run: IPD and aggregate-data trials grouped when both are in, each group with its
    diamond, then the overall diamond and the prediction interval."""
    intervention, control = _arm_headings(forest.outcome)
    weight_heading = "Weight" if forest.weights_from == "analysis" else "Weight*"
    columns = [
        Column("label", "Trial", "left", 0.0),
        Column("intervention", intervention, "left", 0.70, "right"),
        Column("control", control, "left", 0.99, "right"),
        Column("estimate", f"{forest.measure} (95% CI)", "right", 0.02),
        Column("weight", weight_heading, "right", 0.99, "right"),
    ]
    grouped = len({row.source for row in forest.rows}) > 1
    rows: list[Row] = []
    for source, heading in (("ipd", "Trials with IPD"), ("aggregate", "Trials without IPD (published results)")):
        members = [row for row in forest.rows if row.source == source]
        if not members:
            continue
        if grouped:
            rows.append(Row({"label": heading}, shape="heading", bold=True))
        rows += [_trial_plot_row(row, forest) for row in members]
        if grouped:
            subtotal = next((pooled for pooled in forest.pooled if pooled.source == source), None)
            if subtotal is not None:
                rows.append(_diamond_row(subtotal, forest.measure))
    for pooled in forest.pooled:
        if pooled.source == "all":
            rows.append(_diamond_row(pooled, forest.measure))
            if pooled.prediction_interval:
                low, high = pooled.prediction_interval
                rows.append(
                    Row(
                        {"label": "Prediction interval", "estimate": f"({number(low)} to {number(high)})"},
                        estimate=None,
                        low=low,
                        high=high,
                        shape="interval",
                        hover=f"95% prediction interval {exact(low)} to {exact(high)}",
                    )
                )
    notes = [heterogeneity_sentence(forest.heterogeneity, forest.approach)]
    if any(row.flagged for row in forest.rows):
        notes.append(f"{FLAG} unresolved integrity failures when the analysis ran")
    if forest.weights_from == "two-stage":
        notes.append(
            "* a one-stage model has no per-trial weights: the two-stage analysis of the same rows gives these"
        )
    return Plot(
        rows=rows,
        columns=columns,
        ratio=forest.ratio,
        axis_title=_measure_title(forest.measure),
        favours=favours(higher_is_better),
        notes=[note for note in notes if note],
        title=title,
    )


def _trial_plot_row(row, forest: Forest) -> Row:
    label = f"{row.label} {FLAG}" if row.flagged else row.label
    cells = {
        "label": label,
        "intervention": row.intervention_text,
        "control": row.control_text,
        "weight": f"{row.weight:.1f}%" if row.weight is not None else "",
    }
    if row.excluded:
        cells["estimate"] = shorten(f"excluded: {row.reason}")
        return Row(cells, shape="heading", hover=f"{row.label}: excluded ({row.reason})")
    cells["estimate"] = interval(row.estimate, row.ci_low, row.ci_high)
    hover = (
        f"<b>{row.label}</b><br>{forest.measure} {exact(row.estimate)} (95% CI {exact(row.ci_low)} to "
        f"{exact(row.ci_high)})"
    )
    if row.weight is not None:
        hover += f"<br>weight {row.weight:.2f}%"
    if row.intervention:
        hover += f"<br>intervention {cells['intervention']}, control {cells['control']}"
    if row.flagged:
        hover += "<br>unresolved: " + ", ".join(item["title"] for item in row.unresolved)
    return Row(cells, estimate=row.estimate, low=row.ci_low, high=row.ci_high, size=row.weight, hover=hover)


def _diamond_row(pooled, measure: str) -> Row:
    text = interval(pooled.estimate, pooled.ci_low, pooled.ci_high)
    hover = (
        f"<b>{pooled.label}</b> (k = {pooled.k})<br>{measure} {exact(pooled.estimate)} (95% CI "
        f"{exact(pooled.ci_low)} to {exact(pooled.ci_high)})"
    )
    return Row(
        {
            "label": f"{pooled.label}, k = {pooled.k}",
            "estimate": text,
            "weight": "100%" if pooled.source == "all" else "",
        },
        estimate=pooled.estimate,
        low=pooled.ci_low,
        high=pooled.ci_high,
        shape="diamond",
        hover=hover,
        bold=True,
    )


def forest_figure(forest: Forest, *, higher_is_better: bool, title: str = "") -> dict:
    return figure(forest_plot(forest, higher_is_better=higher_is_better, title=title))


# --------------------------------------------------------------------------------------------------- families


def _entry_row(entry: dict, measure: str, extra: dict | None = None) -> Row:
    pooled = entry.get("pooled") or {}
    cells = {"label": entry["label"], "k": "" if entry.get("k") is None else str(entry["k"]), **(extra or {})}
    if entry.get("error") or pooled.get("estimate") is None:
        cells["estimate"] = shorten(entry.get("error") or "not estimated")
        return Row(cells, shape="heading", hover=entry.get("error") or "")
    estimate = on_scale(pooled["estimate"], measure)
    low, high = on_scale(pooled["ci_low"], measure), on_scale(pooled["ci_high"], measure)
    cells["estimate"] = interval(estimate, low, high)
    hover = (
        f"<b>{entry['label']}</b><br>{measure} {exact(estimate)} (95% CI {exact(low)} to "
        f"{exact(high)})<br>k = {entry.get('k')}"
    )
    return Row(cells, estimate=estimate, low=low, high=high, hover=hover, bold=entry.get("changed") == "nothing")


def summary_figure(family: dict, *, measure: str, higher_is_better: bool) -> dict:
    """One row per analysis of the sensitivity family, all on the measure's scale."""
    rows = [_entry_row(entry, measure) for entry in family.get("analyses", [])]
    columns = [
        Column("label", "Analysis", "left", 0.0),
        Column("k", "Trials", "left", 0.99, "right"),
        Column("estimate", f"{measure} (95% CI)", "right", 0.02),
    ]
    plot = Plot(rows, columns, is_ratio(measure), _measure_title(measure), favours(higher_is_better))
    return figure(plot)


def leave_one_out_figure(family: dict, *, measure: str, higher_is_better: bool) -> dict:
    """One row per trial left out, with the pooled effect of the others and their tau2 and I2."""
    rows = []
    for entry in family.get("leave_one_out", []):
        heterogeneity = entry.get("heterogeneity") or {}
        extra = {
            "tau2": number(heterogeneity.get("tau2"), 3) if heterogeneity else "",
            "I2": f"{heterogeneity['I2']:.0f}%" if heterogeneity.get("I2") is not None else "",
        }
        rows.append(_entry_row(entry, measure, extra))
    columns = [
        Column("label", "Trial left out", "left", 0.0),
        Column("k", "Trials", "left", 0.99, "right"),
        Column("estimate", f"{measure} (95% CI)", "right", 0.02),
        Column("tau2", "τ²", "right", 0.74, "right"),
        Column("I2", "I²", "right", 0.99, "right"),
    ]
    plot = Plot(rows, columns, is_ratio(measure), _measure_title(measure), favours(higher_is_better))
    return figure(plot)


def interaction_figure(block: dict, *, measure: str, covariate: str, labels: dict[str, str]) -> dict:
    """Two-stage within-trial interactions ("deft"): each trial's treatment-covariate interaction and their
    pooled value, on the measure's scale (a ratio of ratios per unit of the covariate for ratio measures)."""
    rows = []
    for item in block.get("per_trial") or []:
        label = labels.get(str(item["trial"]), str(item["trial"]))
        if item.get("excluded") or item.get("estimate") is None:
            rows.append(Row({"label": label, "estimate": shorten(f"excluded: {item.get('reason')}")}, shape="heading"))
            continue
        estimate, se = item["estimate"], item["se"]
        low, high = (on_scale(bound, measure) for bound in wald_interval(estimate, se))
        shown = on_scale(estimate, measure)
        rows.append(
            Row(
                {"label": label, "estimate": interval(shown, low, high)},
                estimate=shown,
                low=low,
                high=high,
                hover=f"<b>{label}</b><br>{exact(shown)} (95% CI {exact(low)} to {exact(high)})",
            )
        )
    pooled = block.get("pooled") or {}
    if pooled.get("estimate") is not None:
        estimate = on_scale(pooled["estimate"], measure)
        low, high = on_scale(pooled["ci_low"], measure), on_scale(pooled["ci_high"], measure)
        rows.append(
            Row(
                {
                    "label": f"Pooled within-trial interaction, k = {pooled.get('k')}",
                    "estimate": interval(estimate, low, high),
                },
                estimate=estimate,
                low=low,
                high=high,
                shape="diamond",
                bold=True,
                hover=f"{exact(estimate)} ({exact(low)} to {exact(high)})",
            )
        )
    ratio = is_ratio(measure)
    unit = f"ratio of {measure}s per unit of {covariate}" if ratio else f"change in {measure} per unit of {covariate}"
    columns = [Column("label", "Trial", "left", 0.0), Column("estimate", "Interaction (95% CI)", "right", 0.02)]
    notes = [heterogeneity_sentence(block.get("heterogeneity"), "two-stage")]
    return figure(Plot(rows, columns, ratio, unit[0].upper() + unit[1:], None, [n for n in notes if n]))
