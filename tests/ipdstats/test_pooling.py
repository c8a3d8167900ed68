# ruff: noqa: E501  (tables of values from R)
"""Stage two against R's metafor 3.8 (rma.uni, threshold 1e-12): every tau2 estimator, Wald and Knapp-Hartung
intervals, Q, I2, H2, the Q-profile interval, and the small-k rules."""

import math

import numpy as np
import pytest
from scipy import stats

from ipdstats.errors import AnalysisError
from ipdstats.pooling import generalised_q, pool, q_profile_interval

# Log odds ratios and variances of 14 trials (escalc "OR", 0.5 added to tables with a zero cell).
YI = np.array([
    -0.097956991624261, -0.000110065489077, -0.732598372946422, 0.910211685797773, -1.85238409104449,
    -1.03250759649779, -0.566752218622301, -0.601160932235582, -0.820370609995416, -0.322237802297915,
    -1.145132304303, -0.950482096622434, -2.58765180807984, 2.03106795739562,
])  # fmt: skip
VI = np.array([
    0.0638597674611111, 0.0428154692802137, 0.204688821241333, 0.554693274205469, 1.20710784313725,
    0.127575168881628, 0.0589866330441431, 0.0901294345225771, 0.11067482403012, 0.0550930279453192,
    0.401298701298701, 0.258768724881257, 2.23636028611153, 2.37097505668934,
])  # fmt: skip

# rma(yi, vi, method = ..., test = "z" / "knha"): estimate, se, ci_low, p, tau2, I2
R_RESULTS = {
    ("FE", "wald"): (-0.423426754214433, 0.0925170364353412, -0.604756813584081, 4.72269708029796e-06, 0, 44.5206389987298),
    ("DL", "wald"): (-0.496200481439144, 0.140216544365897, -0.771019858432966, 0.000401926653615141, 0.102193780823228, 44.5206389987298),
    ("DL", "hksj"): (-0.496200481439144, 0.151305202040867, -0.823075497488004, 0.00597934125017998, 0.102193780823228, 44.5206389987298),
    ("REML", "wald"): (-0.481856165805251, 0.126343083470868, -0.729484059103891, 0.000136807144605937, 0.0657266915078368, 34.0419821401993),
    ("REML", "hksj"): (-0.481856165805251, 0.143719967021449, -0.792344277866256, 0.00519324112885487, 0.0657266915078368, 34.0419821401993),
    ("PM", "wald"): (-0.513032903342568, 0.163366336412031, -0.833225038996404, 0.0016872695579615, 0.175620165832098, 57.9664063114934),
    ("ML", "wald"): (-0.472192771216787, 0.118799265748702, -0.705035053474045, 7.04647108221483e-05, 0.0482404604587821, 27.4734837579329),
    ("ML", "hksj"): (-0.472192771216787, 0.139492563857496, -0.773548133984155, 0.00488030225021786, 0.0482404604587821, 27.4734837579329),
    ("HE", "wald"): (-0.542597080114455, 0.263648956557975, -1.05933953952965, 0.0395873927385722, 0.679250125381797, 84.2116428892738),
    ("HE", "hksj"): (-0.542597080114455, 0.205790100209967, -0.987179562418405, 0.0205261938967038, 0.679250125381797, 84.2116428892738),
    ("SJ", "wald"): (-0.539101921258259, 0.241951185655754, -1.0133175311603, 0.025870958436169, 0.544468961190465, 81.0441567338949),
    ("SJ", "hksj"): (-0.539101921258259, 0.197965087307162, -0.966779490950573, 0.0174057081275787, 0.544468961190465, 81.0441567338949),
    ("EB", "wald"): (-0.513032903342583, 0.163366336412057, -0.833225038996468, 0.00168726955796376, 0.175620165832186, 57.9664063115057),
    ("EB", "hksj"): (-0.513032903342583, 0.163366336412029, -0.865964416048286, 0.00781499301718169, 0.175620165832186, 57.9664063115057),
}  # fmt: skip


@pytest.mark.parametrize(("method", "ci"), list(R_RESULTS))
def test_pooling_matches_metafor(method, ci):
    estimate, se, ci_low, p, tau2, i2 = R_RESULTS[(method, ci)]
    result = pool(YI, VI, tau2_method=method, ci_method=ci)
    assert result.estimate == pytest.approx(estimate, rel=2e-6)
    assert result.se == pytest.approx(se, rel=2e-6)
    assert result.ci_low == pytest.approx(ci_low, rel=2e-6)
    assert result.p == pytest.approx(p, rel=2e-5)
    assert result.tau2 == pytest.approx(tau2, rel=2e-6, abs=1e-12)
    assert result.I2 == pytest.approx(i2, rel=2e-6)
    assert result.Q == pytest.approx(23.4321372225292, rel=1e-10)
    assert result.Q_df == 13


def test_q_profile_interval_solves_the_generalised_q_equation():
    low, high = q_profile_interval(YI, VI)
    assert low == 0.0  # Q at tau2 = 0 is below the upper chi-square quantile
    assert high == pytest.approx(1.68116233860797, rel=1e-5)  # R (uniroot, tol 1e-4)
    assert generalised_q(YI, VI, high) == pytest.approx(stats.chi2.ppf(0.025, 13), rel=1e-12)


def test_hksj_interval_uses_t_with_k_minus_1_df_without_truncation():
    result = pool(YI, VI, tau2_method="PM", ci_method="hksj")
    # At the Paule-Mandel root the Knapp-Hartung factor is exactly 1 (no truncation either way).
    assert result.se == pytest.approx(pool(YI, VI, tau2_method="PM").se, rel=1e-9)
    assert result.df == 13
    half = stats.t.isf(0.025, 13) * result.se
    assert result.ci_high - result.estimate == pytest.approx(half, rel=1e-12)


def test_prediction_interval_uses_t_with_k_minus_2_df_and_the_ci_standard_error():
    result = pool(YI, VI, tau2_method="REML", ci_method="hksj")
    half = stats.t.isf(0.025, 12) * math.sqrt(result.tau2 + result.se**2)
    assert result.prediction_interval == pytest.approx((result.estimate - half, result.estimate + half), rel=1e-12)


def test_fixed_effect_i2_and_h2_come_from_q():
    result = pool(YI, VI, tau2_method="FE")
    assert result.I2 == pytest.approx(100 * (result.Q - 13) / result.Q)
    assert result.H2 == pytest.approx(result.Q / 13)


def test_one_trial_gives_that_trial_and_no_heterogeneity():
    result = pool([0.4], [0.04], tau2_method="REML")
    assert (result.estimate, result.se, result.k) == (0.4, pytest.approx(0.2), 1)
    assert result.tau2 is None and result.I2 is None and result.Q is None and result.prediction_interval is None
    assert "Only one trial" in result.warnings[0]


def test_two_trials_have_no_prediction_interval():
    result = pool([0.1, 0.5], [0.04, 0.09], tau2_method="DL")
    assert result.k == 2 and result.prediction_interval is None
    assert result.Q_df == 1


def test_homogeneous_trials_put_tau2_on_the_boundary_with_a_warning():
    result = pool([0.20, 0.21, 0.19, 0.20], [0.04, 0.05, 0.06, 0.05], tau2_method="REML")
    assert result.tau2 == 0.0
    assert result.tau2_ci == (0.0, 0.0)
    assert any("boundary" in text for text in result.warnings)


def test_no_trials_or_bad_variances_are_refused():
    with pytest.raises(AnalysisError, match="No trial"):
        pool([], [])
    with pytest.raises(AnalysisError, match="positive"):
        pool([0.1, 0.2], [0.01, 0.0])
