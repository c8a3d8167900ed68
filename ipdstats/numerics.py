"""The logistic function and its companions, in numpy: scipy.special gives the same numbers, but importing scipy
costs a small command-line run (one-stage models need nothing else from it) a fifth of a second."""

import numpy as np


def expit(x):
    """1 / (1 + exp(-x)), without overflow for large |x|."""
    x = np.asarray(x, dtype=float)
    out = np.empty_like(x)
    positive = x >= 0
    out[positive] = 1.0 / (1.0 + np.exp(-x[positive]))
    exp_x = np.exp(x[~positive])
    out[~positive] = exp_x / (1.0 + exp_x)
    return out


def logsumexp(values: np.ndarray, axis: int) -> np.ndarray:
    """log(sum(exp(values))) along `axis`, shifted by the maximum so that nothing overflows."""
    top = np.max(values, axis=axis, keepdims=True)
    top = np.where(np.isfinite(top), top, 0.0)
    return np.squeeze(top, axis=axis) + np.log(np.sum(np.exp(values - top), axis=axis))


def softmax(values: np.ndarray, axis: int) -> np.ndarray:
    """exp(values) / sum(exp(values)) along `axis`."""
    shifted = np.exp(values - np.max(values, axis=axis, keepdims=True))
    return shifted / np.sum(shifted, axis=axis, keepdims=True)
