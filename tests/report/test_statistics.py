"""Known answers for the report's statistics, each worked out beside its test."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from mnistbench.report import statistics as st


def scipys_ratio_interval(baseline, times, confidence=0.95):
    """scipy's percentile bootstrap of median(baseline) / median(times): 9,999 resamples, 95%
    unless asked otherwise, seed 0, as the report states its speed-up intervals."""
    return stats.bootstrap(
        (np.asarray(baseline), np.asarray(times)),
        lambda a, b, axis: np.median(a, axis=axis) / np.median(b, axis=axis),
        n_resamples=9999,
        confidence_level=confidence,
        method="percentile",
        rng=np.random.default_rng(0),
    ).confidence_interval


def test_mcnemar_with_ten_discordant_pairs_one_way_and_none_the_other_gives_p_0_00195():
    # Under no difference each of the 10 discordant pairs falls either way with probability
    # 1/2: P(all 10 one way) = 2^-10, doubled for two sides = 2 / 1024 = 0.001953125.
    test = st.mcnemar(first_only=0, second_only=10, pairs=1000)
    assert test.p == pytest.approx(2 / 1024, abs=1e-12)
    assert round(test.p, 5) == 0.00195


def test_identical_predictions_give_p_1_and_a_difference_of_exactly_zero():
    correct = np.array([True, False, True, True])
    test = st.paired_test([(correct, correct.copy()), (correct, correct.copy())])
    assert (test.p, test.first_only, test.second_only, test.pairs) == (1.0, 0, 0, 8)
    assert (test.difference.low, test.difference.high) == (0.0, 0.0)


def test_the_paired_test_pools_the_discordant_pairs_of_every_seed():
    # seed 0: 4 images only the second gets right; seed 1: 6, and 1 the other way
    first = [np.zeros(10, bool), np.r_[True, np.zeros(9, bool)]]
    second = [np.r_[np.ones(4, bool), np.zeros(6, bool)], np.r_[False, np.ones(6, bool), [0] * 3]]
    test = st.paired_test(zip(first, second))
    assert (test.first_only, test.second_only, test.pairs) == (1, 10, 20)
    assert test.p == pytest.approx(stats.binomtest(10, 11, 0.5).pvalue)
    assert test.p == pytest.approx(2 * (1 + 11) / 2**11)  # P(X >= 10 | n=11), doubled


def test_the_difference_interval_holds_zero_exactly_when_the_test_is_not_significant():
    for first_only, second_only in [(0, 10), (2, 9), (3, 8), (5, 5), (0, 5), (1, 7)]:
        test = st.mcnemar(first_only, second_only, 1000)
        holds_zero = test.difference.low <= 0 <= test.difference.high
        assert holds_zero == (test.p > 0.05), (first_only, second_only, test)
        assert test.difference.low <= (second_only - first_only) / 1000 <= test.difference.high


def test_a_wilson_interval_for_9829_of_10000():
    # Wilson: (p + z²/2n ± z·sqrt(p(1-p)/n + z²/4n²)) / (1 + z²/n), p = 0.9829, z = 1.959964
    p, n, z = 0.9829, 10_000, stats.norm.ppf(0.975)
    centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z * math.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / (1 + z**2 / n)
    interval = st.wilson_interval(9829, 10_000)
    assert (interval.low, interval.high) == pytest.approx((centre - half, centre + half))
    assert (round(interval.low, 5), round(interval.high, 5)) == (0.98017, 0.98526)


def test_a_t_interval_over_three_seeds():
    # mean 0.982, sd 0.0025, t(0.975, 2) = 4.302653: 0.982 ± 4.302653 * 0.0025 / sqrt(3)
    interval = st.t_interval([0.9795, 0.982, 0.9845])
    half = 4.302653 * 0.0025 / math.sqrt(3)
    assert (interval.low, interval.high) == pytest.approx((0.982 - half, 0.982 + half), abs=1e-6)


def test_one_seed_takes_wilsons_interval_and_two_take_students():
    assert st.accuracy_interval([0.9829], 10_000).method == st.WILSON_METHOD
    assert st.accuracy_interval([0.98, 0.99], 10_000).method == st.T_METHOD


def test_seeds_of_one_accuracy_take_wilsons_interval_rather_than_one_of_width_zero():
    interval = st.accuracy_interval([0.85, 0.85], 300)
    assert interval.method == st.WILSON_SAME_METHOD
    assert (interval.low, interval.high) == (st.wilson_interval(255, 300).low,
                                             st.wilson_interval(255, 300).high)  # fmt: skip


def test_a_bootstrap_interval_on_a_fixed_sample_with_a_fixed_seed():
    baseline = [2.0, 2.1, 1.9, 2.05, 1.95, 2.2]
    times = [1.0, 0.9, 1.1, 1.05, 0.95, 1.0]
    interval = st.speedup_interval(baseline, times)
    expected = scipys_ratio_interval(baseline, times)
    assert (interval.low, interval.high) == (expected.low, expected.high)
    # the ratio of medians, 2.025 / 1.0, lies inside; the interval is the same on every call
    assert interval.low < 2.025 < interval.high
    assert st.speedup_interval(baseline, times) == interval


def test_the_two_stage_bootstrap_matches_scipys_where_each_run_has_one_epoch():
    # One epoch per run: resampling epochs within a run changes nothing, and the two-stage
    # bootstrap is scipy's percentile bootstrap over runs (up to Monte Carlo error).
    rng = np.random.default_rng(1)
    baseline, times = rng.normal(2.0, 0.2, 30), rng.normal(1.0, 0.1, 25)
    two_stage = st.two_stage_speedup_interval([[t] for t in baseline], [[t] for t in times])
    scipy = st.speedup_interval(baseline, times)
    assert two_stage.low == pytest.approx(scipy.low, rel=0.02)
    assert two_stage.high == pytest.approx(scipy.high, rel=0.02)


def test_the_two_stage_bootstrap_widens_with_the_spread_between_seeds():
    steady = st.two_stage_speedup_interval([[2.0, 2.1], [2.0, 2.1]], [[1.0, 1.05], [1.0, 1.05]])
    seeds_apart = st.two_stage_speedup_interval([[2.0, 2.1], [3.0, 3.1]], [[1.0, 1.05]] * 2)
    assert seeds_apart.high - seeds_apart.low > 5 * (steady.high - steady.low)


def test_one_run_of_one_epoch_on_a_side_is_too_few_to_bootstrap():
    assert st.two_stage_speedup_interval([[2.0]], [[1.0], [1.1]]) is None
    assert st.speedup_interval([2.0], [1.0, 1.1]) is None


def test_benjamini_hochberg_adjusts_as_scipy_and_leaves_untested_rows_blank():
    # sorted p 0.01, 0.03, 0.04 of m = 3: q = min over k >= i of p_k * m / k = 0.03, 0.04, 0.04
    q = st.benjamini_hochberg([0.01, 0.04, np.nan, 0.03])
    assert q[[0, 1, 3]] == pytest.approx([0.03, 0.04, 0.04])
    assert np.isnan(q[2])


def test_a_speed_verdict_needs_two_runs_on_every_side():
    assert st.speed_verdict_possible(2, 2) and st.speed_verdict_possible(5, 2, 3)
    assert not st.speed_verdict_possible(1, 4)
    assert not st.speed_verdict_possible(3, 1)


def test_a_speedup_without_spread_is_the_exact_ratio_and_one_value_is_too_few():
    interval = st.speedup_interval([4.0, 4.0, 4.0], [2.0, 2.0])
    assert (interval.low, interval.high, interval.method) == (2.0, 2.0, st.BOOTSTRAP_METHOD)
    assert st.speedup_interval([4.0], [2.0, 2.0]) is None
    assert st.speedup_interval([4.0, 4.0], [2.0]) is None


def test_the_ratio_of_medians_is_taken_along_the_last_axis():
    numerator = np.array([[1.0, 9.0, 3.0], [4.0, 4.0, 10.0]])
    denominator = np.array([[1.0, 1.0, 2.0], [2.0, 2.0, 2.0]])
    assert st.ratio_of_medians(numerator, denominator).tolist() == [3.0, 2.0]


def test_benjamini_hochberg_of_no_test_is_all_blank():
    assert np.isnan(st.benjamini_hochberg([np.nan, np.nan])).all()
    assert st.benjamini_hochberg([0.01, 0.04]).tolist() == pytest.approx([0.02, 0.04])


def test_the_two_stage_interval_needs_two_values_on_each_side():
    assert st.two_stage_speedup_interval([[1.0]], [[1.0, 2.0]]) is None
    assert st.two_stage_speedup_interval([[1.0, 2.0]], [[1.0]]) is None
    interval = st.two_stage_speedup_interval([[2.0, 2.0], [2.0]], [[1.0, 1.0]])
    assert (interval.low, interval.high) == (2.0, 2.0) and interval.method == st.TWO_STAGE_METHOD
