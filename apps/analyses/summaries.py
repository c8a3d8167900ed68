"""What a run records per trial beside the engine's result: arm sizes and events of the rows analysed, rows
left out, and the trial's integrity state when the run was made."""

import numpy as np
import pandas as pd

from apps.analyses.rows import TrialRows
from apps.checks.selectors import data_check_state


def _arm_figures(frame: pd.DataFrame, arm: np.ndarray, spec: dict) -> dict:
    columns = spec["columns"]
    figures = {"n": int(arm.sum())}
    if spec["outcome"] == "binary":
        figures["events"] = int(np.nansum(frame[columns["outcome"]].to_numpy(dtype=float)[arm]))
    elif spec["outcome"] == "survival":
        figures["events"] = int(np.nansum(frame[columns["event"]].to_numpy(dtype=float)[arm]))
    else:
        values = frame[columns["outcome"]].to_numpy(dtype=float)[arm]
        figures["mean"] = float(values.mean()) if len(values) else None
        figures["sd"] = float(values.std(ddof=1)) if len(values) > 1 else None
    return figures


def arms(piece: TrialRows, spec: dict, columns: list[str]) -> dict:
    """Per arm, among the rows with every column the analysis uses: participants and events (binary and
    survival) or mean and SD (continuous); and how many rows were left out, and why."""
    frame = piece.frame
    complete = frame[columns].notna().all(axis=1).to_numpy()
    treat = frame[spec["columns"]["treatment"]].to_numpy(dtype=float)
    return {
        "rows": len(frame),
        "analysed": int(complete.sum()),
        "rows_missing": int((~complete).sum()) - piece.other_codes,
        "other_arm_codes": piece.other_codes,
        "intervention": _arm_figures(frame, complete & (treat == 1.0), spec),
        "control": _arm_figures(frame, complete & (treat == 0.0), spec),
    }


def integrity(trial) -> dict:
    """The trial's check state now: its code, and the unresolved failed checks of its newest run."""
    state = data_check_state(trial)
    return {
        "state": state.code,
        "run": state.run.pk if state.run else None,
        "unresolved": [
            {"finding": finding.pk, "code": finding.result.code, "title": finding.result.title}
            for finding in state.unresolved
        ],
    }
