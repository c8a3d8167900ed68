"""The few tail probabilities and quantiles the engine needs.

The normal ones come from Python's own math and statistics modules; the t and chi-square ones from
scipy.special, imported on first use. scipy.stats would give the same numbers but takes about half a second to
import, most of a small command-line run; one-stage models need only the normal ones.
"""

import math
from statistics import NormalDist

_STANDARD_NORMAL = NormalDist()


def normal_sf(x: float) -> float:
    """P(Z > x) for a standard normal Z."""
    return 0.5 * math.erfc(x / math.sqrt(2.0))


def normal_isf(q: float) -> float:
    """The x with P(Z > x) = q."""
    return -_STANDARD_NORMAL.inv_cdf(q)


def _special():
    from scipy import special

    return special


def t_sf(x: float, df: float) -> float:
    """P(T > x) for Student's t with `df` degrees of freedom."""
    return float(_special().stdtr(df, -x))


def t_isf(q: float, df: float) -> float:
    """The x with P(T > x) = q."""
    return float(-_special().stdtrit(df, q))


def chi2_sf(x: float, df: float) -> float:
    """P(X > x) for a chi-square X with `df` degrees of freedom."""
    return float(_special().chdtrc(df, x))


def chi2_isf(q: float, df: float) -> float:
    """The x with P(X > x) = q."""
    return float(_special().chdtri(df, q))


def chi2_ppf(p: float, df: float) -> float:
    """The x with P(X <= x) = p."""
    return float(_special().chdtri(df, 1.0 - p))
