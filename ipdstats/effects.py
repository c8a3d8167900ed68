"""Stage one: each trial's treatment effect (or treatment-covariate interaction) and its standard error.

Every estimator works on all trials at once through grouped sums (np.bincount), so the cost is a few passes
over the participant rows whatever the number of trials: each trial keeps its own coefficients (and, for Cox
models, its own risk sets), while the iterations of Newton's method run on all trials together.
"""

from dataclasses import dataclass, field, replace

import numpy as np

from . import numerics
from .data import Prepared
from .errors import AnalysisError

LOGISTIC_TOLERANCE = 1e-10
LOGISTIC_MAX_ITERATIONS = 50
COX_TOLERANCE = 1e-10
COX_MAX_ITERATIONS = 50
SINGULAR_TOLERANCE = 1e-10
# R's lm drops a column whose norm, once the earlier columns are projected out, is below 1e-7 of its own norm.
ALIASED_TOLERANCE = 1e-7


@dataclass
class TrialEffects:
    """Per-trial estimates; an excluded trial has NaN estimate and se and a reason."""

    trials: list[str]
    n: np.ndarray
    estimate: np.ndarray
    se: np.ndarray
    reasons: list[str | None]
    convergence: dict = field(default_factory=dict)
    left_out: list[tuple[str, str, str]] = field(default_factory=list)  # (trial, covariate, "constant"/"collinear")

    def left_out_warnings(self) -> list[str]:
        """One sentence per covariate left out of an included trial's model."""
        included = {trial for trial, reason in zip(self.trials, self.reasons, strict=True) if reason is None}
        sentences = {
            "constant": "is constant",
            "collinear": "is collinear with the treatment or the other covariates",
        }
        return [
            f"In trial {trial} the covariate '{name}' {sentences[kind]}, so it was left out of that trial's model "
            "(as R does)."
            for trial, name, kind in self.left_out
            if trial in included
        ]

    @classmethod
    def empty(cls, data: Prepared) -> "TrialEffects":
        count = len(data.trials)
        return cls(
            trials=list(data.trials),
            n=data.rows_per_trial(),
            estimate=np.full(count, np.nan),
            se=np.full(count, np.nan),
            reasons=[None] * count,
        )

    def exclude(self, mask: np.ndarray, reason: str) -> None:
        """Marks trials excluded; the first reason given for a trial is kept."""
        for index in np.flatnonzero(mask):
            if self.reasons[index] is None:
                self.reasons[index] = reason
        self.estimate[mask] = np.nan
        self.se[mask] = np.nan

    @property
    def included(self) -> np.ndarray:
        return np.array([reason is None for reason in self.reasons], dtype=bool)


def grouped_sum(data: Prepared, values: np.ndarray) -> np.ndarray:
    return np.bincount(data.trial_index, weights=values, minlength=len(data.trials))


def _arm_sizes(data: Prepared) -> tuple[np.ndarray, np.ndarray]:
    treated = grouped_sum(data, data.treat)
    return treated, data.rows_per_trial() - treated


def _exclude_single_arm(effects: TrialEffects, data: Prepared) -> None:
    treated, control = _arm_sizes(data)
    effects.exclude(control == 0, "only one arm: no control participants")
    effects.exclude(treated == 0, "only one arm: no intervention participants")


def _centred_with_means(data: Prepared, values: np.ndarray, sizes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    means = grouped_sum(data, values) / np.maximum(sizes, 1)
    return values - means[data.trial_index], means


def _centred(data: Prepared, values: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    return _centred_with_means(data, values, sizes)[0]


def _solve_batched(matrices: np.ndarray, vectors: np.ndarray, usable: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Solutions and inverses of per-trial systems; unusable trials get NaN."""
    count, size = vectors.shape
    solutions = np.full((count, size), np.nan)
    inverses = np.full((count, size, size), np.nan)
    if usable.any():
        inverses[usable] = np.linalg.inv(matrices[usable])
        solutions[usable] = np.einsum("tij,tj->ti", inverses[usable], vectors[usable])
    return solutions, inverses


def _well_conditioned(matrices: np.ndarray) -> np.ndarray:
    """Per trial: is the cross-product matrix of full rank (judged on its correlation scaling)?"""
    diagonal = np.sqrt(np.clip(np.einsum("tii->ti", matrices), 0, None))
    ok = np.all(diagonal > 0, axis=1)
    scale = np.where(diagonal > 0, diagonal, 1.0)
    scaled = matrices / scale[:, :, None] / scale[:, None, :]
    smallest = np.linalg.eigvalsh(scaled)[:, 0]
    return ok & (smallest > SINGULAR_TOLERANCE)


def sequential_aliasing(cross: np.ndarray, scale: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per trial and column (in column order): is the column aliased, i.e. (almost) a combination of the
    earlier columns that are kept, and is it constant? `cross` is the within-trial centred cross-product
    matrix, `scale` each column's uncentred sum of squares. An unpivoted Cholesky factorisation that skips
    aliased columns: the residual sum of squares of column k on the kept earlier ones is compared with
    `scale` as R's QR compares the residual norm with the column's norm, so earlier columns are kept."""
    count, size = scale.shape
    factor = np.zeros((count, size, size))
    aliased = np.zeros((count, size), dtype=bool)
    threshold = ALIASED_TOLERANCE**2 * scale
    for k in range(size):
        for j in range(k):
            projection = cross[:, k, j] - np.einsum("tm,tm->t", factor[:, k, :j], factor[:, j, :j])
            factor[:, k, j] = np.where(aliased[:, j], 0.0, projection / factor[:, j, j])
        residual = cross[:, k, k] - np.einsum("tm,tm->t", factor[:, k, :k], factor[:, k, :k])
        aliased[:, k] = residual <= threshold[:, k]
        factor[:, k, k] = np.where(aliased[:, k], 1.0, np.sqrt(np.where(aliased[:, k], 1.0, residual)))
    constant = cross[:, np.arange(size), np.arange(size)] <= threshold
    return aliased, constant


@dataclass(frozen=True)
class _Rows:
    """Rows (or cells of rows, each `size` participants) by trial, with the model's columns in R's formula order
    after the intercept: the treatment (0/1), then the others centred within trial, weighted by `size`."""

    trial_index: np.ndarray
    trials: int
    size: np.ndarray | None  # None: one participant each
    treat: np.ndarray
    centred: list[np.ndarray]

    def grouped_sum(self, values: np.ndarray) -> np.ndarray:
        weighted = values if self.size is None else self.size * values
        return np.bincount(self.trial_index, weights=weighted, minlength=self.trials)


def aliased_columns(rows: _Rows, means: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Per trial: which columns of the model R would drop as aliased, and which are constant; (trials, columns)
    booleans. `means` are the trial means of the uncentred columns after the treatment."""
    sizes = np.bincount(rows.trial_index, weights=rows.size, minlength=rows.trials)
    treated = rows.grouped_sum(rows.treat)
    size = 1 + len(rows.centred)
    cross = np.empty((rows.trials, size, size))
    # A centred column sums to 0 in its trial, so the treatment needs no centring of its own.
    cross[:, 0, 0] = treated * (sizes - treated) / np.maximum(sizes, 1)
    for j, column in enumerate(rows.centred, start=1):
        cross[:, 0, j] = cross[:, j, 0] = rows.grouped_sum(rows.treat * column)
        for k in range(j, size):
            cross[:, j, k] = cross[:, k, j] = rows.grouped_sum(column * rows.centred[k - 1])
    # Uncentred sums of squares, without another pass over the rows.
    scale = np.stack([treated, *(cross[:, j, j] + sizes * means[j - 1] ** 2 for j in range(1, size))], axis=1)
    return sequential_aliasing(cross, scale)


def _unit_diagonal_where(matrices: np.ndarray, aliased: np.ndarray | None) -> np.ndarray:
    """Puts 1 on the diagonal of each aliased column: with the column zeroed in its trial, the system is that of
    the reduced model, and the aliased coefficient stays 0."""
    if aliased is not None and aliased.any():
        diagonal = np.einsum("tii->ti", matrices)
        diagonal[aliased] = 1.0
    return matrices


def linear_regression(
    data: Prepared, columns: list[np.ndarray], response: np.ndarray, coefficient: int, effects, aliased=None
):
    """Least squares per trial of response on an intercept and `columns` (those `aliased` in a trial already
    zeroed there); fills `effects` with the chosen coefficient and its model-based SE (residual variance on
    n - rank degrees of freedom, as R's lm)."""
    sizes = data.rows_per_trial()
    centred = [_centred(data, column, sizes) for column in columns]
    y = _centred(data, response, sizes)
    count, size = len(data.trials), len(columns)
    cross = np.empty((count, size, size))
    for i in range(size):
        for j in range(i, size):
            cross[:, i, j] = cross[:, j, i] = grouped_sum(data, centred[i] * centred[j])
    _unit_diagonal_where(cross, aliased)
    right = np.stack([grouped_sum(data, column * y) for column in centred], axis=1)
    rank = size - (0 if aliased is None else aliased.sum(axis=1))
    residual_df = sizes - rank - 1
    effects.exclude(residual_df <= 0, "too few participants to fit the trial's model")
    usable = effects.included & _well_conditioned(cross)
    effects.exclude(~usable, "the trial's model cannot be estimated: a covariate is constant or collinear in it")
    usable = effects.included
    beta, inverse = _solve_batched(cross, right, usable)
    fitted = np.zeros_like(y)
    safe_beta = np.nan_to_num(beta)
    for j, column in enumerate(centred):
        fitted += safe_beta[data.trial_index, j] * column
    rss = grouped_sum(data, (y - fitted) ** 2)
    sigma2 = rss / np.where(usable, residual_df, 1)
    effects.estimate[usable] = beta[usable, coefficient]
    effects.se[usable] = np.sqrt(sigma2[usable] * inverse[usable, coefficient, coefficient])
    effects.exclude(usable & ~(effects.se > 0), "the trial's model fits its outcome exactly (no residual variance)")
    return effects


def two_by_two(data: Prepared) -> dict[str, np.ndarray]:
    """Per trial: events and participants by arm (a = intervention events, c = control events), counted in one
    pass over the rows."""
    cell = data.trial_index * 4 + data.treat.astype(np.int64) * 2 + data.outcome.astype(np.int64)
    counts = np.bincount(cell, minlength=4 * len(data.trials)).reshape(-1, 4).astype(float)
    c, d, a, b = counts[:, 1], counts[:, 0], counts[:, 3], counts[:, 2]
    return {"a": a, "b": b, "c": c, "d": d, "n1": a + b, "n2": c + d}


def binary_from_tables(data: Prepared, measure: str) -> TrialEffects:
    """OR, RR or RD from each trial's 2x2 table; 0.5 added to every cell of a table with a zero cell."""
    cells = two_by_two(data)
    a, b, c, d = cells["a"], cells["b"], cells["c"], cells["d"]
    count = len(data.trials)
    effects = TrialEffects(
        list(data.trials), (a + b + c + d).astype(np.int64), np.full(count, np.nan), np.full(count, np.nan),
        [None] * count,
    )  # fmt: skip
    effects.exclude(cells["n2"] == 0, "only one arm: no control participants")
    effects.exclude(cells["n1"] == 0, "only one arm: no intervention participants")
    if measure in ("OR", "RR"):
        effects.exclude((a + c == 0) & effects.included, "no events in either arm")
        effects.exclude((b + d == 0) & effects.included, "every participant had the event in both arms")
    table = np.stack([a, b, c, d], axis=1)
    zero_cell = table.min(axis=1) == 0
    a, b, c, d = np.where(zero_cell[:, None], table + 0.5, table).T
    n1, n2 = a + b, c + d
    with np.errstate(divide="ignore", invalid="ignore"):
        if measure == "OR":
            estimate = np.log(a * d / (b * c))
            variance = 1 / a + 1 / b + 1 / c + 1 / d
        elif measure == "RR":
            estimate = np.log((a / n1) / (c / n2))
            variance = 1 / a - 1 / n1 + 1 / c - 1 / n2
        else:
            p1, p2 = a / n1, c / n2
            estimate = p1 - p2
            variance = p1 * (1 - p1) / n1 + p2 * (1 - p2) / n2
    included = effects.included
    effects.estimate[included] = estimate[included]
    effects.se[included] = np.sqrt(variance[included])
    effects.convergence = {"zero_cell_corrections": int((zero_cell & included).sum())}
    return effects


@dataclass(frozen=True)
class _Cells:
    """Binary outcomes grouped by trial and covariate values: `events` out of `size` participants per cell.
    Participants with the same trial and covariates share one likelihood term, so the fit is exact."""

    trial_index: np.ndarray
    design: list[np.ndarray]  # intercept first, then the model's columns, one value per cell
    events: np.ndarray
    size: np.ndarray
    trials: int

    def grouped_sum(self, values: np.ndarray) -> np.ndarray:
        return np.bincount(self.trial_index, weights=values, minlength=self.trials)


def _level_codes(values: np.ndarray, most: int) -> tuple[np.ndarray, int] | None:
    """Integer codes 0..levels-1 of a column's values, or None when it has more than `most` levels."""
    low, high = values.min(), values.max()
    if high - low < most and np.array_equal(values, np.round(values)):  # integers: no sort needed
        return (values - low).astype(np.int64), int(high - low) + 1
    levels, codes = np.unique(values, return_inverse=True)
    return (codes, len(levels)) if len(levels) <= most else None


def _cell_index(data: Prepared, key_columns: list[np.ndarray]) -> tuple[np.ndarray, int] | None:
    """Each row's cell (same trial, same value in every key column), or None when cells would not be few."""
    rows = len(data.trial_index)
    key, radix = data.trial_index.astype(np.int64), len(data.trials)
    for column in key_columns:
        coded = _level_codes(column, most=max(rows // 20, 2))
        if coded is None or radix * coded[1] > 2**62:
            return None
        key, radix = key * coded[1] + coded[0], radix * coded[1]
    if radix <= 4 * rows:
        occupied = np.bincount(key, minlength=radix) > 0
        cells = int(occupied.sum())
        cell = (np.cumsum(occupied) - 1)[key]
    else:
        unique, cell = np.unique(key, return_inverse=True)
        cells = len(unique)
    return (cell, cells) if cells <= rows // 4 else None


def _binary_cells(data: Prepared, columns: list[np.ndarray], key_columns: list[np.ndarray]) -> _Cells:
    design = [np.ones_like(data.treat), *columns]
    grouping = _cell_index(data, key_columns)
    if grouping is None:
        return _Cells(data.trial_index, design, data.outcome, np.ones_like(data.outcome), len(data.trials))
    cell, cells = grouping
    size = np.bincount(cell, minlength=cells).astype(float)
    trial_of_cell = np.zeros(cells, dtype=np.int64)
    trial_of_cell[cell] = data.trial_index
    values = [np.bincount(cell, weights=column, minlength=cells) / size for column in columns]
    events = np.bincount(cell, weights=data.outcome, minlength=cells)
    return _Cells(trial_of_cell, [np.ones(cells), *values], events, size, len(data.trials))


def _weighted_cross_products(cells: _Cells, weight: np.ndarray) -> np.ndarray:
    """Per trial: X' diag(weight) X from grouped sums."""
    design = cells.design
    size = len(design)
    cross = np.empty((cells.trials, size, size))
    for i in range(size):
        weighted = weight * design[i]
        for j in range(i, size):
            cross[:, i, j] = cross[:, j, i] = cells.grouped_sum(weighted * design[j])
    return cross


def _logistic_means(cells: _Cells, beta: np.ndarray) -> np.ndarray:
    eta = np.zeros_like(cells.design[0])
    for j, column in enumerate(cells.design):
        eta += beta[cells.trial_index, j] * column
    return numerics.expit(eta)


def logistic_regression(
    data: Prepared,
    columns: list[np.ndarray],
    coefficient: int,
    effects,
    key_columns: list[np.ndarray],
    aliased=None,
    cells: "_Cells | None" = None,
) -> TrialEffects:
    """Maximum likelihood logistic regression per trial (intercept + `columns`), Newton-Raphson run on all
    trials at once until every step is below tolerance; SE from the inverse information at the estimate.
    Rows are first grouped into cells of equal trial and `key_columns` values (the columns are functions of
    them) when that makes far fewer terms: the likelihood, hence every estimate, is unchanged (`cells` when
    already grouped). Columns `aliased` in a trial are zeroed there and kept at 0."""
    if cells is None:
        cells = _binary_cells(data, columns, key_columns)
    if aliased is not None:
        cells = replace(
            cells, design=[cells.design[0], *_without_aliased(cells.trial_index, cells.design[1:], aliased)]
        )
    count, size = cells.trials, len(cells.design)
    if aliased is not None:
        aliased = np.column_stack([np.zeros(count, dtype=bool), aliased])  # the intercept is never aliased
    collinear = ~_well_conditioned(_unit_diagonal_where(_weighted_cross_products(cells, cells.size), aliased))
    effects.exclude(
        effects.included & collinear,
        "the trial's logistic model cannot be estimated: a covariate is constant or collinear",
    )
    beta = np.zeros((count, size))
    pending = effects.included.copy()
    converged = np.zeros(count, dtype=bool)
    iterations = 0
    while pending.any() and iterations < LOGISTIC_MAX_ITERATIONS:
        mu = _logistic_means(cells, beta)
        information = _unit_diagonal_where(_weighted_cross_products(cells, cells.size * mu * (1.0 - mu)), aliased)
        residual = cells.events - cells.size * mu
        score = np.stack([cells.grouped_sum(column * residual) for column in cells.design], axis=1)
        solvable = pending & _well_conditioned(information)
        step, _ = _solve_batched(information, score, solvable)
        step = np.nan_to_num(step)
        beta += step
        small = solvable & (np.max(np.abs(step), axis=1) < LOGISTIC_TOLERANCE)
        converged |= small
        pending &= solvable & ~small
        iterations += 1
    mu = _logistic_means(cells, beta)
    information = _unit_diagonal_where(_weighted_cross_products(cells, cells.size * mu * (1.0 - mu)), aliased)
    failed = ~converged | ~_well_conditioned(information) | ~np.all(np.isfinite(beta), axis=1)
    effects.exclude(
        effects.included & failed, "the trial's logistic model did not converge (the data may be separated)"
    )
    usable = effects.included
    _, inverse = _solve_batched(information, np.zeros((count, size)), usable)
    effects.estimate[usable] = beta[usable, coefficient + 1]
    effects.se[usable] = np.sqrt(inverse[usable, coefficient + 1, coefficient + 1])
    effects.convergence = {"logistic_iterations": iterations, "logistic_terms": len(cells.events)}
    return effects


def _exclude_empty_binary_arms(effects: TrialEffects, data: Prepared) -> None:
    cells = two_by_two(data)
    no_finite = (cells["a"] == 0) | (cells["c"] == 0) | (cells["b"] == 0) | (cells["d"] == 0)
    effects.exclude(
        no_finite & effects.included,
        "an arm with no events (or only events): the logistic model has no finite estimate",
    )


def _exclude_arms_without_events(effects: TrialEffects, data: Prepared) -> None:
    events_treated = grouped_sum(data, data.event * data.treat)
    events_control = grouped_sum(data, data.event) - events_treated
    effects.exclude((events_treated == 0) & (events_control == 0) & effects.included, "no events in either arm")
    effects.exclude((events_treated == 0) & effects.included, "no events in the intervention arm")
    effects.exclude((events_control == 0) & effects.included, "no events in the control arm")


@dataclass(frozen=True)
class _RiskSets:
    """Rows of the included trials sorted by trial and decreasing time: each event's risk set is its trial's
    rows from the trial's first row to the last row of the event's tied group."""

    trial: np.ndarray  # (n,) trial index of each sorted row
    x: np.ndarray  # (p, n) covariates, centred within trial
    trial_starts: np.ndarray  # first sorted row of each trial present, plus n
    event_rows: np.ndarray  # (E,) sorted rows that are events
    event_trial: np.ndarray  # (E,) trial of each event
    risk_end: np.ndarray  # (E,) last sorted row of each event's risk set
    tied_starts: np.ndarray  # first event of each group of tied events
    tied_group: np.ndarray  # (E,) group of tied events of each event
    fraction: np.ndarray  # (E,) l / d for the l-th of the d tied events of a group (Efron)
    observed: np.ndarray  # (count, p) sum of the covariates over each trial's events


def _risk_sets(data: Prepared, columns: list[np.ndarray], rows: np.ndarray) -> _RiskSets:
    trial, time = data.trial_index[rows], data.time[rows]
    by_time = np.argsort(-time)  # the order among tied times does not matter
    # A stable sort of small integers is a radix sort: trial order costs one linear pass.
    small = trial.astype(np.int16 if len(data.trials) < 2**15 else np.int64)
    order = by_time[np.argsort(small[by_time], kind="stable")]
    trial, time, event = trial[order], time[order], data.event[rows][order]
    count = len(data.trials)
    sizes = np.maximum(np.bincount(trial, minlength=count), 1)
    x = np.empty((len(columns), len(trial)))
    for j, column in enumerate(columns):
        x[j] = column[rows][order]
        x[j] -= (np.bincount(trial, weights=x[j], minlength=count) / sizes)[trial]
    new_trial = np.r_[True, trial[1:] != trial[:-1]]
    new_group = new_trial | np.r_[True, time[1:] != time[:-1]]
    group_ends = np.r_[np.flatnonzero(new_group)[1:], len(trial)] - 1
    group = np.cumsum(new_group) - 1
    event_rows = np.flatnonzero(event)
    event_group = group[event_rows]
    first_tied = np.r_[True, event_group[1:] != event_group[:-1]]
    tied_starts = np.flatnonzero(first_tied)
    tied_group = np.cumsum(first_tied) - 1
    deaths = np.diff(np.r_[tied_starts, len(event_rows)])
    rank = np.arange(len(event_rows)) - tied_starts[tied_group]
    event_trial = trial[event_rows]
    observed = np.stack([np.bincount(event_trial, weights=row[event_rows], minlength=count) for row in x], axis=1)
    return _RiskSets(
        trial=trial,
        x=x,
        trial_starts=np.r_[np.flatnonzero(new_trial), len(trial)],
        event_rows=event_rows,
        event_trial=event_trial,
        risk_end=group_ends[event_group],
        tied_starts=tied_starts,
        tied_group=tied_group,
        fraction=rank / deaths[tied_group],
        observed=observed,
    )


def _efron_score_information(
    sets: _RiskSets, beta: np.ndarray, count: int, work: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Per trial: score and information of the Efron partial likelihood at that trial's coefficients.
    `work` is scratch space of shape (1 + 2 m, n), m = 1 + p + p (p + 1) / 2, reused across iterations."""
    size = len(sets.x)
    pairs = [(i, j) for i in range(size) for j in range(i, size)]
    terms_count = 1 + size + len(pairs)
    eta, sums, cumulative = work[0], work[1 : 1 + terms_count], work[1 + terms_count : 1 + 2 * terms_count]
    eta[:] = 0.0
    for j in range(size):
        eta += sets.x[j] * beta[:, j][sets.trial]
    starts = sets.trial_starts
    if np.abs(eta).max() > 300:  # a shift per trial cancels in every ratio below and keeps exp() finite
        eta -= np.repeat(np.maximum.reduceat(eta, starts[:-1]), np.diff(starts))
    np.exp(eta, out=sums[0])
    for i in range(size):
        np.multiply(sums[0], sets.x[i], out=sums[1 + i])
    for column, (i, j) in enumerate(pairs):
        np.multiply(sums[1 + i], sets.x[j], out=sums[1 + size + column])
    for lo, hi in zip(starts[:-1], starts[1:], strict=True):  # cumulative sums restarted at each trial
        np.cumsum(sums[:, lo:hi], axis=1, out=cumulative[:, lo:hi])
    tied = np.add.reduceat(sums[:, sets.event_rows], sets.tied_starts, axis=1)[:, sets.tied_group]
    terms = cumulative[:, sets.risk_end] - sets.fraction * tied
    mean_x = terms[1 : 1 + size] / terms[0]
    score = np.empty((count, size))
    information = np.empty((count, size, size))
    for i in range(size):
        score[:, i] = sets.observed[:, i] - np.bincount(sets.event_trial, weights=mean_x[i], minlength=count)
    for column, (i, j) in enumerate(pairs):
        second = terms[1 + size + column] / terms[0] - mean_x[i] * mean_x[j]
        information[:, i, j] = information[:, j, i] = np.bincount(sets.event_trial, weights=second, minlength=count)
    return score, information


def cox_per_trial(data: Prepared, columns: list[np.ndarray], coefficient: int, effects, aliased=None) -> TrialEffects:
    """Cox model with Efron ties in each included trial, by Newton-Raphson on all trials at once (each trial
    its own coefficients and risk sets) until every step is below tolerance; SE from the inverse information.
    Columns `aliased` in a trial are zeroed there and kept at 0."""
    count, size = len(data.trials), len(columns)
    sets = _risk_sets(data, columns, effects.included[data.trial_index])
    beta = np.zeros((count, size))
    pending = effects.included.copy()
    converged = np.zeros(count, dtype=bool)
    information = np.zeros((count, size, size))
    work = np.empty((1 + 2 * (1 + size + size * (size + 1) // 2), len(sets.trial)))
    iterations = 0
    while pending.any() and iterations < COX_MAX_ITERATIONS:
        score, information = _efron_score_information(sets, beta, count, work)
        _unit_diagonal_where(information, aliased)
        solvable = pending & _well_conditioned(information)
        step, _ = _solve_batched(information, score, solvable)
        step = np.nan_to_num(step)
        beta += step
        small = solvable & (np.max(np.abs(step), axis=1) < COX_TOLERANCE)
        converged |= small
        pending &= solvable & ~small
        iterations += 1
    # The information of the last iteration is that at the estimate: the last step was below tolerance.
    failed = ~converged | ~_well_conditioned(information) | ~np.all(np.isfinite(beta), axis=1)
    reason = "the trial's Cox model did not converge (a covariate may be constant, or predict the events exactly)"
    effects.exclude(effects.included & failed, reason)
    usable = effects.included
    _, inverse = _solve_batched(information, np.zeros((count, size)), usable)
    effects.estimate[usable] = beta[usable, coefficient]
    effects.se[usable] = np.sqrt(inverse[usable, coefficient, coefficient])
    effects.convergence = {"cox_iterations": iterations}
    return effects


def _covariate_columns(data: Prepared, names, sizes) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """The covariates centred within trial, and their trial means. Centring changes no treatment or interaction
    coefficient and keeps the solvers well scaled."""
    pairs = [_centred_with_means(data, data.covariates[name], sizes) for name in names]
    return [centred for centred, _ in pairs], [means for _, means in pairs]


def _without_aliased(trial_index: np.ndarray, columns: list[np.ndarray], aliased: np.ndarray) -> list[np.ndarray]:
    """The columns with each one zeroed in the trials where it is aliased (left out of that trial's model)."""
    return [column * ~aliased[trial_index, j] if aliased[:, j].any() else column for j, column in enumerate(columns)]


def _fit(data: Prepared, measure: str, columns, coefficient: int, effects, key_columns, aliased, cells=None):
    """Fits the trial models; `columns` are functions of the rows' trial and `key_columns` values (grouped in
    `cells` when already done); `aliased` (trials, columns), or None, marks the columns left out of a trial's
    model."""
    if aliased is not None and not aliased.any():
        aliased = None
    if measure == "OR":
        _exclude_empty_binary_arms(effects, data)
        return logistic_regression(data, columns, coefficient, effects, key_columns, aliased, cells)
    if aliased is not None:
        columns = _without_aliased(data.trial_index, columns, aliased)
    if measure == "MD":
        return linear_regression(data, columns, data.outcome, coefficient, effects, aliased)
    if measure == "HR":
        _exclude_arms_without_events(effects, data)
        return cox_per_trial(data, columns, coefficient, effects, aliased)
    raise AnalysisError(f"Covariates and interactions need measure MD, OR or HR; {measure} is taken from 2x2 tables.")


def _covariates_left_out(effects: TrialEffects, rows: _Rows, means, positions) -> np.ndarray:
    """Which covariates R would leave out of each trial's model, recorded in `effects.left_out`. `positions[j]` is
    the covariate name of the model's column j (in R's formula order, the treatment first), or None for the
    treatment or the interaction. Returns the aliased mask in that order, for the included trials only."""
    aliased, constant = aliased_columns(rows, means)
    aliased &= effects.included[:, None]
    for j, name in enumerate(positions):
        if name is None:
            continue
        for index in np.flatnonzero(aliased[:, j]):
            kind = "constant" if constant[index, j] else "collinear"
            effects.left_out.append((effects.trials[index], name, kind))
    return aliased


def treatment_effects(data: Prepared, measure: str, adjust: list[str]) -> TrialEffects:
    """Each trial's treatment effect, adjusted for `adjust` when given."""
    if measure in ("OR", "RR", "RD") and not adjust:
        return binary_from_tables(data, measure)
    if measure in ("RR", "RD"):
        raise AnalysisError(f"Adjusted {measure} is not available; adjusted binary analyses use measure OR.")
    effects = TrialEffects.empty(data)
    _exclude_single_arm(effects, data)
    covariates, means = _covariate_columns(data, adjust, effects.n)
    keys = [data.treat, *(data.covariates[name] for name in adjust)]
    columns = [data.treat, *covariates]
    if not adjust:
        return _fit(data, measure, columns, 0, effects, keys, None)
    # R's order: treatment, then the covariates as listed; an aliased treatment is a trial with one arm. Binary rows
    # grouped into cells once serve both this and the fit.
    cells = _binary_cells(data, columns, keys) if measure == "OR" else None
    if cells is None:
        rows = _Rows(data.trial_index, len(data.trials), None, data.treat, covariates)
    else:
        rows = _Rows(cells.trial_index, cells.trials, cells.size, cells.design[1], cells.design[2:])
    aliased = _covariates_left_out(effects, rows, means, [None, *map(data.label, adjust)])
    return _fit(data, measure, columns, 0, effects, keys, aliased, cells)


def interaction_effects(data: Prepared, measure: str, covariate: str, adjust: list[str]) -> TrialEffects:
    """Each trial's treatment x covariate coefficient from a model with treatment, covariate and their product
    (plus `adjust`): the within-trial interaction."""
    if measure not in ("MD", "OR", "HR"):
        raise AnalysisError(
            f"Two-stage interactions are estimated for MD, OR and HR; for binary outcomes use OR, not {measure}."
        )
    effects = TrialEffects.empty(data)
    _exclude_single_arm(effects, data)
    modifier, modifier_means = _centred_with_means(data, data.covariates[covariate], effects.n)
    effects.exclude(grouped_sum(data, modifier**2) <= 0, f"the covariate {covariate} does not vary in the trial")
    other_names = [name for name in adjust if name != covariate]
    others, other_means = _covariate_columns(data, other_names, effects.n)
    keys = [data.treat, data.covariates[covariate], *(data.covariates[name] for name in other_names)]
    # R's formula y ~ treat * covariate + others orders the columns treat, covariate, others, treat:covariate.
    product, product_means = _centred_with_means(data, data.treat * data.covariates[covariate], effects.n)
    rows = _Rows(data.trial_index, len(data.trials), None, data.treat, [modifier, *others, product])
    means = [modifier_means, *other_means, product_means]
    aliased = _covariates_left_out(effects, rows, means, [None, None, *map(data.label, other_names), None])
    effects.exclude(
        aliased[:, -1] | aliased[:, 1],
        f"the interaction of treatment with {covariate} cannot be estimated in the trial: {covariate} is collinear "
        "with the treatment or the other covariates (R's coefficient would be NA)",
    )
    model_order = [0, 1, len(keys), *range(2, len(keys))]
    columns = [data.treat, modifier, data.treat * modifier, *others]
    return _fit(data, measure, columns, 2, effects, keys, aliased[:, model_order])
