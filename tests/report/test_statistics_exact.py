"""More known answers for the report's statistics: the exact bounds of McNemar's difference, a
bootstrap with spread on one side only, the percentiles of the two-stage bootstrap, every
interval at another confidence, correctness given as numbers, and the edges (an interval's own
ends, one value on a side). Each expected number comes from scipy.stats by another route, or is
counted by hand beside its test."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats

from mnistbench.report import statistics as st
from tests.report.test_statistics import scipys_ratio_interval


def test_a_wilson_interval_at_99_percent_takes_the_confidence_asked_for():
    # the same formula as at 95%, with z = 2.575829 (99%) in place of 1.959964
    p, n, z = 0.9829, 10_000, stats.norm.ppf(0.995)
    centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z * math.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / (1 + z**2 / n)
    interval = st.wilson_interval(9829, 10_000, confidence=0.99)
    assert (interval.low, interval.high) == pytest.approx((centre - half, centre + half))
    assert (round(interval.low, 5), round(interval.high, 5)) == (0.97923, 0.98593)


@pytest.mark.parametrize(("first_only", "second_only"), [(3, 8), (2, 9), (5, 5), (8, 3), (0, 10)])
@pytest.mark.parametrize("confidence", [0.95, 0.9])
def test_mcnemars_difference_interval_is_clopper_pearsons_scaled_to_the_test_set(
    first_only, second_only, confidence
):
    # Clopper-Pearson for k of n from the beta distribution (not binomtest's proportion_ci):
    # low = Beta(a / 2; k, n - k + 1), high = Beta(1 - a / 2; k + 1, n - k) with a = 1 -
    # confidence, 0 and 1 at the ends. The share s of second_only among the n discordant pairs
    # gives the difference over all pairs as n / pairs * (2 s - 1).
    k, n, pairs, tail = second_only, first_only + second_only, 1000, (1 - confidence) / 2
    low = stats.beta.ppf(tail, k, n - k + 1) if k > 0 else 0.0
    high = stats.beta.ppf(1 - tail, k + 1, n - k) if k < n else 1.0
    test = st.mcnemar(first_only, second_only, pairs, confidence=confidence)
    expected = (n / pairs * (2 * low - 1), n / pairs * (2 * high - 1))
    assert (test.difference.low, test.difference.high) == pytest.approx(expected, rel=1e-9)


def test_ten_discordant_pairs_all_one_way_bound_the_difference_by_hand():
    # k = n = 10: Clopper-Pearson's share is [0.025^(1/10), 1], so the difference over 1000
    # pairs is [0.01 * (2 * 0.025^(1/10) - 1), 0.01 * (2 - 1)] = [0.003830, 0.01].
    test = st.mcnemar(first_only=0, second_only=10, pairs=1000)
    assert test.difference.low == pytest.approx(0.01 * (2 * 0.025**0.1 - 1), rel=1e-9)
    assert test.difference.high == pytest.approx(0.01, rel=1e-12)
    # and the mirror image: -0.01 to -0.003830
    mirror = st.mcnemar(first_only=10, second_only=0, pairs=1000)
    assert mirror.difference.low == pytest.approx(-0.01, rel=1e-12)
    assert mirror.difference.high == pytest.approx(-0.01 * (2 * 0.025**0.1 - 1), rel=1e-9)


def test_the_difference_interval_names_mcnemars_test_with_or_without_discordant_pairs():
    for first_only, second_only in [(0, 0), (1, 7)]:
        method = st.mcnemar(first_only, second_only, 100).difference.method
        assert method.startswith("McNemar's exact test"), (first_only, second_only, method)


def test_the_paired_test_counts_the_discordant_pairs_of_the_first_seed_too():
    # seed 0: the first right and the second wrong on 2 images; seed 1: 1 image that way and
    # 3 the other. Pooled: 3 and 3 of 8 images, p = binomtest(3, 6) = 1.
    seeds = [
        (np.array([True, True, False, False]), np.array([False, False, False, False])),
        (np.array([False, False, False, True]), np.array([True, True, True, False])),
    ]
    test = st.paired_test(seeds)
    assert (test.first_only, test.second_only, test.pairs) == (3, 3, 8)
    assert test.p == pytest.approx(stats.binomtest(3, 6, 0.5).pvalue)
    assert test.p == pytest.approx(1.0)  # 3 of 6 is the middle: nothing more even


def test_an_interval_holds_both_of_its_ends():
    # equal times without spread: exactly 1x, so the interval [1, 1] holds 1 (no difference)
    same = st.speedup_interval([3.0, 3.0], [3.0, 3.0])
    assert (same.low, same.high) == (1.0, 1.0) and same.holds(1.0)
    # no discordant pair: a difference of exactly [0, 0], which holds 0
    assert st.mcnemar(0, 0, 100).difference.holds(0.0)
    interval = st.Interval(0.5, 2.0, st.BOOTSTRAP_METHOD)
    assert interval.holds(0.5) and interval.holds(2.0)
    assert not interval.holds(0.4999) and not interval.holds(2.0001)


def test_a_speedup_with_spread_in_the_baseline_only_is_bootstrapped():
    # times all 1.0, so each resample's ratio is the median of 3 draws from {2, 2.5, 3}. That
    # median is 2 when two or three draws are 2: 3 * (1/3)^2 * (2/3) + (1/3)^3 = 7/27 = 26 %,
    # and 3 as often: over 2.5 % each, so the 95% percentile interval is exactly [2, 3]. (The
    # baseline's spread is exactly 1.)
    interval = st.speedup_interval([2.0, 3.0, 2.5], [1.0, 1.0])
    assert (interval.low, interval.high) == (2.0, 3.0)
    assert interval.method == "percentile bootstrap, 9,999 resamples, seed 0"


def test_a_speedup_with_spread_in_the_times_only_is_bootstrapped():
    # baseline all 2.0; the median of 3 draws from the times {1, 1.5, 2} is 1 or 2 with
    # probability 7/27 each, so the ratio 2 / median is 2 or 1 as often: [1, 2] exactly. (The
    # times' spread is exactly 1.)
    interval = st.speedup_interval([2.0, 2.0, 2.0], [1.0, 2.0, 1.5])
    assert (interval.low, interval.high) == (1.0, 2.0)
    expected = scipys_ratio_interval([2.0, 2.0, 2.0], [1.0, 2.0, 1.5])
    assert (interval.low, interval.high) == (expected.low, expected.high)


def test_a_bootstrap_interval_of_many_distinct_times_is_scipys_percentile_one_with_seed_0():
    # 30 and 25 distinct times: the resampled medians take thousands of values, so another seed
    # or another method (scipy's default is BCa) moves the bounds; a handful of times would give
    # so few medians that the percentiles often land on the same ones.
    rng = np.random.default_rng(1)
    baseline, times = rng.normal(2.0, 0.2, 30), rng.normal(1.0, 0.1, 25)
    interval = st.speedup_interval(baseline, times)
    expected = scipys_ratio_interval(baseline, times)
    assert (interval.low, interval.high) == (expected.low, expected.high)
    assert interval.low < np.median(baseline) / np.median(times) < interval.high


def test_the_two_stage_interval_takes_the_2_5_and_97_5_percentiles_of_each_runs_epoch_means():
    # One run a side. The baseline's 10 epochs are five of 1 s and five of 2 s, so the mean of
    # 10 epochs drawn with replacement is 1 + X / 10 with X ~ binomial(10, 1/2); the other side's
    # epochs are all 1 s. The ratio's 2.5th and 97.5th percentiles are 1 + 2/10 and 1 + 8/10
    # (binom.ppf: P(X <= 1) = 1.1 % < 2.5 % < P(X <= 2) = 5.5 %, and symmetrically), far
    # enough from the next values that 9,999 resamples cannot miss them.
    low_x, high_x = stats.binom.ppf([0.025, 0.975], 10, 0.5)
    assert (low_x, high_x) == (2, 8)
    interval = st.two_stage_speedup_interval([[1.0, 2.0] * 5], [[1.0, 1.0]])
    assert interval.low == pytest.approx(1 + low_x / 10)
    assert interval.high == pytest.approx(1 + high_x / 10)


def test_correctness_given_as_0_and_1_counts_as_booleans_do():
    # a correct column with gaps reads back from a CSV as floats; integers as they are
    first = np.array([1, 1, 0, 1, 0, 1, 1, 0])
    second = np.array([1, 0, 1, 1, 1, 1, 1, 1])
    as_booleans = st.paired_test([(first.astype(bool), second.astype(bool))])
    assert (as_booleans.first_only, as_booleans.second_only, as_booleans.pairs) == (1, 3, 8)
    for kind in (float, np.int64):
        assert st.paired_test([(first.astype(kind), second.astype(kind))]) == as_booleans, kind
    mixed = st.paired_test([(first.astype(float), second.astype(bool))])
    assert mixed == st.paired_test([(first.astype(bool), second.astype(float))]) == as_booleans


def test_a_90_percent_speedup_interval_is_scipys_at_90_and_narrower_than_at_95():
    rng = np.random.default_rng(1)
    baseline, times = rng.normal(2.0, 0.2, 30), rng.normal(1.0, 0.1, 25)
    interval = st.speedup_interval(baseline, times, confidence=0.9)
    expected = scipys_ratio_interval(baseline, times, confidence=0.9)
    assert (interval.low, interval.high) == (expected.low, expected.high)
    wide = st.speedup_interval(baseline, times)
    assert wide.low < interval.low < interval.high < wide.high


def test_a_90_percent_two_stage_interval_takes_the_5th_and_95th_percentiles():
    # the by-hand case of the 95% test above: X ~ binomial(10, 1/2) epochs of 2 s among 10,
    # whose 5th and 95th percentiles are 2 and 8 as well (P(X <= 2) = 5.5 % > 5 %), and whose
    # 80% percentiles (10th, 90th) are 3 and 7 (P(X <= 2) = 5.5 % < 10 % < P(X <= 3) = 17 %)
    for confidence, expected_x in [(0.9, (2, 8)), (0.8, (3, 7))]:
        low_x, high_x = stats.binom.ppf([(1 - confidence) / 2, (1 + confidence) / 2], 10, 0.5)
        assert (low_x, high_x) == expected_x
        interval = st.two_stage_speedup_interval([[1.0, 2.0] * 5], [[1.0, 1.0]], confidence)
        assert (interval.low, interval.high) == pytest.approx((1 + low_x / 10, 1 + high_x / 10))


def test_the_two_stage_interval_is_the_percentiles_of_its_resamples_from_seed_0():
    # 4 runs of 5 distinct epoch times a side: thousands of distinct resampled ratios, so
    # another seed or other percentiles than 2.5 and 97.5 move the bounds
    rng = np.random.default_rng(7)
    baseline = [rng.normal(2.0, 0.2, 5) for _ in range(4)]
    times = [rng.normal(1.0, 0.1, 5) for _ in range(4)]
    interval = st.two_stage_speedup_interval(baseline, times)
    draws = np.random.default_rng(0)  # the baseline's resamples first, then the times'
    baseline_medians = st.two_stage_bootstrap_medians(baseline, 9999, draws)
    ratios = baseline_medians / st.two_stage_bootstrap_medians(times, 9999, draws)
    assert (interval.low, interval.high) == tuple(np.percentile(ratios, [2.5, 97.5]))
    assert st.two_stage_speedup_interval(baseline, times) == interval  # on every call
    assert interval.low < 2.0 < interval.high
