"""Command line: python -m ipdstats run SPEC.json"""

import argparse
import json
import sys
from pathlib import Path

from .engine import run_spec_safely

DESCRIPTION = """\
Individual participant data meta-analysis, two-stage and one-stage.

  python -m ipdstats run SPEC.json

SPEC.json holds one spec object or a list of them; the result (or a list of results, in the same order) is
printed as JSON. An analysis that cannot be run gives {"error": "..."} in its place and the exit status is 1.

Spec keys:
  data         CSV (.csv, .csv.gz) or Parquet file, relative to the spec file's folder
  outcome      continuous | binary | survival
  columns      {"trial", "treatment", "outcome"} or, for survival, {"trial", "treatment", "time", "event"}
  measure      MD (continuous); OR, RR, RD (binary); HR (survival); ratios on the log scale
  approach     two-stage (default) | one-stage
  tau2         FE, DL, REML (default), PM, ML, HE, SJ, EB: two-stage between-trial variance estimator
  ci           wald (default) | hksj (Hartung-Knapp-Sidik-Jonkman)
  adjust       list of covariate columns; a text column is coded as R codes a factor (sorted levels, the first
               the reference, one 0/1 indicator per other level; a text interaction column needs two levels)
  interaction  a covariate column: treatment x covariate interaction
  quadrature   one-stage binary: 1 = Laplace (default), n = adaptive Gauss-Hermite with n points
  aggregate    list of {"trial", "estimate", "se"}: published results of trials without participant data
Coding: treatment 1 = intervention, 0 = control; binary outcome and event 1 = event, 0 = none/censored.
"""


def _read_specs(path: Path):
    try:
        return json.loads(path.read_text())
    except OSError as error:
        raise ValueError(f"The spec file {path} cannot be read: {error.strerror or error}.")
    except json.JSONDecodeError as error:
        raise ValueError(f"The spec file {path} is not valid JSON: {error}.")


def run(path: Path) -> int:
    try:
        specs = _read_specs(path)
    except ValueError as error:
        print(json.dumps({"error": str(error)}))
        return 1
    base_dir = path.resolve().parent
    if isinstance(specs, list):
        results = [run_spec_safely(spec, base_dir) for spec in specs]
        output = results
    else:
        results = [run_spec_safely(specs, base_dir)]
        output = results[0]
    print(json.dumps(output, indent=1, allow_nan=False))
    return 1 if any("error" in result for result in results) else 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m ipdstats", description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)
    run_parser = commands.add_parser("run", help="run the analyses of a spec file and print their results")
    run_parser.add_argument("spec", type=Path, help="a JSON file with one spec or a list of specs")
    arguments = parser.parse_args(argv)
    return run(arguments.spec)


if __name__ == "__main__":
    sys.exit(main())
