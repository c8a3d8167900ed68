"""Rebuilding a run's input from the tables it names, independently of the app's own code, and comparing results."""

import hashlib
import math

import pandas as pd

from apps.harmonisation.models import HarmonisedTable


def rebuild(run, dataset_root) -> pd.DataFrame:
    """The run's input as anyone would rebuild it: each named table (its SHA-256 checked), the treatment coded
    1/0 with the trial's codes, a trial column holding the trial's id, all concatenated."""
    pieces = []
    columns = run.spec["columns"]
    for item in run.inputs:
        table = HarmonisedTable.objects.get(pk=item["harmonised_table"])
        content = (dataset_root / table.storage_name).read_bytes()
        assert hashlib.sha256(content).hexdigest() == item["sha256"]
        frame = pd.read_parquet(dataset_root / table.storage_name)
        assert len(frame) == item["n"]
        codes = {item["arm_codes"]["intervention"]: 1.0, item["arm_codes"]["control"]: 0.0}
        coded = [codes.get(_code(value)) for value in frame[columns["treatment"]]]
        frame[columns["treatment"]] = pd.Series(coded, dtype=float)
        frame.insert(0, columns["trial"], str(item["trial"]))
        pieces.append(frame)
    return pd.concat(pieces, ignore_index=True)


def _code(value) -> str:
    """A value as a code: 1, 1.0 and "1" all read "1"."""
    if isinstance(value, float | int) and not isinstance(value, bool) and float(value).is_integer():
        return str(int(value))
    return str(value)


def assert_same(expected, actual, *, rel: float = 1e-10, path: str = "result", skip=("settings", "convergence")):
    """Equal structure; numbers equal to `rel` (relative, or absolute near zero)."""
    if isinstance(expected, dict):
        assert isinstance(actual, dict), path
        keys = set(expected) - set(skip)
        assert keys == set(actual) - set(skip), (path, keys ^ (set(actual) - set(skip)))
        for key in keys:
            assert_same(expected[key], actual[key], rel=rel, path=f"{path}.{key}", skip=skip)
    elif isinstance(expected, list):
        assert isinstance(actual, list) and len(expected) == len(actual), path
        for index, (left, right) in enumerate(zip(expected, actual, strict=True)):
            assert_same(left, right, rel=rel, path=f"{path}[{index}]", skip=skip)
    elif isinstance(expected, float) and not isinstance(expected, bool):
        assert isinstance(actual, int | float), (path, actual)
        assert math.isclose(expected, actual, rel_tol=rel, abs_tol=rel), (path, expected, actual)
    else:
        assert expected == actual, (path, expected, actual)
