"""The few tail probabilities and quantiles the engine needs, from scipy.special.

scipy.stats would give the same numbers but takes about half a second to import, most of a small command-line
run; these are the functions its normal, t and chi-square distributions call.
"""

from scipy import special


def normal_sf(x: float) -> float:
    """P(Z > x) for a standard normal Z."""
    return float(special.ndtr(-x))


def normal_isf(q: float) -> float:
    """The x with P(Z > x) = q."""
    return float(-special.ndtri(q))


def t_sf(x: float, df: float) -> float:
    """P(T > x) for Student's t with `df` degrees of freedom."""
    return float(special.stdtr(df, -x))


def t_isf(q: float, df: float) -> float:
    """The x with P(T > x) = q."""
    return float(-special.stdtrit(df, q))


def chi2_sf(x: float, df: float) -> float:
    """P(X > x) for a chi-square X with `df` degrees of freedom."""
    return float(special.chdtrc(df, x))


def chi2_isf(q: float, df: float) -> float:
    """The x with P(X > x) = q."""
    return float(special.chdtri(df, q))


def chi2_ppf(p: float, df: float) -> float:
    """The x with P(X <= x) = p."""
    return float(special.chdtri(df, 1.0 - p))
