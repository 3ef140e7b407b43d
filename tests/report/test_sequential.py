"""The seed plan's confidence sequence: its formula against its definition, and its error rates
under repeated looks, simulated."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate, stats

from mnistbench.report import sequential as sq

LOOKS = [3, 5, 7, 9, 11, 13, 15, 17, 19, 20]  # seeds {first: 3, step: 2, max: 20}
SEQUENCES = 4000
# The most false positives a rate of alpha allows in SEQUENCES tries, 3 standard errors above it.
TOLERANCE = sq.ALPHA + 3 * math.sqrt(sq.ALPHA * (1 - sq.ALPHA) / SEQUENCES)


def e_value_by_integration(t: float, n: int, phi: float) -> float:
    """The e-value from its definition: the t statistic's density under a standardised effect
    drawn from N(0, 1/phi) (a noncentral t), over its density under no effect (a central t)."""
    nu, prior = n - 1, stats.norm(0, 1 / math.sqrt(phi))
    alternative = integrate.quad(
        lambda delta: stats.nct.pdf(t, nu, delta * math.sqrt(n)) * prior.pdf(delta),
        -60,
        60,
        points=[0.0, t / math.sqrt(n)],
        limit=200,
    )[0]
    return alternative / stats.t.pdf(t, nu)


@pytest.mark.parametrize(("t", "n", "phi"), [(0.5, 3, 0.1), (2.5, 5, 0.1), (4.0, 12, 1.0)])
def test_the_closed_form_e_value_is_the_bayes_factor_of_the_t_statistic(t, n, phi):
    closed = math.exp(float(sq.log_e_value(t, n, phi)))
    assert closed == pytest.approx(e_value_by_integration(t, n, phi), rel=1e-5)


def test_the_radius_is_where_the_e_value_reaches_one_over_alpha():
    for n in (3, 5, 20):
        factor = float(sq.radius_factor(n))
        assert float(sq.log_e_value(factor, n)) == pytest.approx(math.log(1 / sq.ALPHA))


def test_the_interval_is_wider_than_a_fixed_sample_t_interval_and_infinite_for_two_seeds():
    for n in (3, 5, 10, 20):
        assert sq.radius_factor(n) > stats.t.ppf(1 - sq.ALPHA / 2, n - 1)
    assert sq.radius_factor(2) == np.inf


def looks_until_decided(rng, mean: float, margin: float) -> list[sq.Decision]:
    """One simulated seed plan: each sequence's decision at the look where it stopped."""
    values = rng.normal(mean, 1.0, size=(SEQUENCES, LOOKS[-1]))
    stopped = []
    for row in values:
        for n in LOOKS:
            decision = sq.decide(row[:n], margin)
            if decision.decided:
                break
        stopped.append(decision)
    return stopped


def test_with_no_difference_a_difference_is_claimed_at_most_alpha_of_the_time_over_all_looks():
    stopped = looks_until_decided(np.random.default_rng(0), mean=0.0, margin=0.0)
    false_positives = sum(d.reading == sq.DIFFERENCE for d in stopped)
    assert false_positives / SEQUENCES <= TOLERANCE


def test_an_ordinary_t_test_at_the_same_looks_claims_differences_beyond_alpha():
    # The problem the confidence sequence solves, in the same simulation: stopping at the
    # first look with p < alpha finds "differences" in about 20% of sequences without one.
    values = np.random.default_rng(0).normal(0.0, 1.0, size=(SEQUENCES, LOOKS[-1]))
    peeked = np.zeros(SEQUENCES, bool)
    for n in LOOKS:
        peeked |= stats.ttest_1samp(values[:, :n], 0.0, axis=1).pvalue < sq.ALPHA
    assert peeked.mean() > TOLERANCE


def test_a_large_difference_is_found_at_the_first_look():
    # 4x faster with 5% noise per run: log ratios of 1.386 with spread 0.05
    rng = np.random.default_rng(1)
    decision = sq.decide(rng.normal(math.log(4), 0.05, size=3), margin=math.log(1.05))
    assert (decision.reading, decision.seeds) == (sq.DIFFERENCE, 3)


def test_a_real_difference_of_one_and_a_half_spreads_is_found_in_nearly_every_sequence():
    stopped = looks_until_decided(np.random.default_rng(2), mean=1.5, margin=0.0)
    assert sum(d.reading == sq.DIFFERENCE and d.estimate > 0 for d in stopped) >= 0.9 * SEQUENCES


def test_at_the_margin_equivalence_is_claimed_at_most_alpha_of_the_time():
    # the true mean sits on the margin: "equivalent" is a false claim, however rare
    stopped = looks_until_decided(np.random.default_rng(3), mean=0.5, margin=0.5)
    assert sum(d.reading == sq.EQUIVALENT for d in stopped) / SEQUENCES <= TOLERANCE


def test_well_inside_the_margin_equivalence_is_found():
    stopped = looks_until_decided(np.random.default_rng(4), mean=0.0, margin=2.0)
    assert sum(d.reading == sq.EQUIVALENT for d in stopped) >= 0.9 * SEQUENCES


def test_seeds_that_agree_exactly_are_not_read_as_certain_below_the_floor():
    same = [0.0, 0.0, 0.0]
    assert sq.decide(same, margin=0.001).reading == sq.EQUIVALENT  # zero width, no floor
    floored = sq.decide(same, margin=0.001, floor=0.001 / math.sqrt(12))
    assert floored.reading == sq.UNDECIDED
    assert floored.high == pytest.approx(sq.radius_factor(3) * 0.001 / math.sqrt(12 * 3))
    assert sq.decide([0.0] * 5, margin=0.001, floor=0.001 / math.sqrt(12)).decided


def test_one_seed_decides_nothing():
    decision = sq.decide([0.3], margin=1.0)
    assert (decision.reading, decision.low, decision.high) == (sq.UNDECIDED, -math.inf, math.inf)
