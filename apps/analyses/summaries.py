"""What a run records per trial beside the engine's result: arm sizes and events of the rows analysed, rows
left out, and the trial's integrity state when the run was made."""

import numpy as np
import pyarrow as pa

from apps.analyses.rows import TrialRows
from apps.checks.selectors import check_states


def _arm_figures(response: np.ndarray, arm: np.ndarray, outcome: str) -> dict:
    figures = {"n": int(arm.sum())}
    values = response[arm]
    if outcome in ("binary", "survival"):
        figures["events"] = int(values.sum())
    else:
        figures["mean"] = float(values.mean()) if len(values) else None
        figures["sd"] = float(values.std(ddof=1)) if len(values) > 1 else None
    return figures


def _present(column: pa.ChunkedArray) -> np.ndarray:
    """True where the row has a value (null and NaN are missing)."""
    if pa.types.is_floating(column.type):
        return ~np.isnan(column.to_numpy())
    return column.is_valid().to_numpy(zero_copy_only=False)


def arms(piece: TrialRows, spec: dict, columns: list[str]) -> dict:
    """Per arm, among the rows with every column the analysis uses: participants and events (binary and
    survival) or mean and SD (continuous); and how many rows were left out, and why."""
    table = piece.table
    complete = np.logical_and.reduce([_present(table.column(name)) for name in columns])
    treat = table.column(spec["columns"]["treatment"]).to_numpy()
    role = "event" if spec["outcome"] == "survival" else "outcome"
    response = table.column(spec["columns"][role]).to_numpy()
    return {
        "rows": table.num_rows,
        "analysed": int(complete.sum()),
        "rows_missing": int((~complete).sum()) - piece.other_codes,
        "other_arm_codes": piece.other_codes,
        "intervention": _arm_figures(response, complete & (treat == 1.0), spec["outcome"]),
        "control": _arm_figures(response, complete & (treat == 0.0), spec["outcome"]),
    }


def integrity(trials) -> dict[str, dict]:
    """Each trial's check state now: its code, and the unresolved failed checks of its newest run."""
    return {
        str(trial_id): {
            "state": state.code,
            "run": state.run.pk if state.run else None,
            "unresolved": [
                {"finding": finding.pk, "code": finding.result.code, "title": finding.result.title}
                for finding in state.unresolved
            ],
        }
        for trial_id, state in check_states(trials).items()
    }
