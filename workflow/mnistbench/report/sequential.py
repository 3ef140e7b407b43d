"""Comparisons that stay honest when the results are looked at after every batch of seeds.

A seed plan (``seeds: {first: 3, max: 20, until: decided}``) looks at a comparison after each
batch of seeds and stops as soon as it is decided. Looking again and again at an ordinary test
and stopping at the first p < 0.05 makes false positives far more common than 5%; this module's
interval is a *confidence sequence*: with probability at least 1 - alpha it holds the true value
at every look at once, so stopping at any look, for any reason, keeps the error rates.

The method is the t-test confidence sequence of Lai (1976), in the closed form of Lindon, Ham,
Tingley and Bojinov (2024; a linear model of one coefficient, the mean): for ``n`` per-seed values
with mean ``m`` and standard deviation ``s``, the e-value against a mean ``mu`` is the Bayes factor
of the t statistic ``t = (m - mu) / (s / sqrt(n))`` with a normal prior of variance ``1 / phi``
on the standardised effect and the scale-invariant prior on the spread,

    E = sqrt(r) * ((1 + t² / nu) / (1 + r t² / nu)) ** ((nu + 1) / 2),  r = phi / (phi + n),

with ``nu = n - 1``: a nonnegative martingale under the mean ``mu`` (Pérez-Ortiz et al., 2024),
so by Ville's inequality it exceeds ``1 / alpha`` at some look with probability at most alpha.
The means it does not reject form the interval ``m ± radius``, in closed form below. The
``savvi`` package implements the same formula for linear models, but brings cvxpy with it.

Each comparison is *decided* one of two ways, or not yet:

- a difference: the interval excludes no difference (0);
- equivalence within a margin: the interval lies inside (-margin, margin), which are two
  one-sided tests of "at least the margin lower" and "at least the margin higher" (TOST);
- otherwise undecided: more seeds, up to the plan's maximum, where it is reported as undecided
  with its interval.

Both decisions err only where the interval misses the true value, so each has error rate at most
alpha under any number of looks.

References:
  T. L. Lai (1976), On confidence sequences, Annals of Statistics 4(2), 265-280.
  M. Lindon, D. W. Ham, M. Tingley, I. Bojinov (2024), Anytime-valid linear models and
  regression adjusted causal inference in randomized experiments, arXiv:2210.08589.
  M. F. Pérez-Ortiz, T. Lardy, R. de Heide, P. Grünwald (2024), E-statistics, group invariance
  and anytime-valid testing, Annals of Statistics 52(4).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

ALPHA = 0.05
# The prior precision phi of the standardised effect (effect / spread): 1 / phi is the prior's
# variance. 0.1 (prior sd 3.2: backends differ in speed by many spreads) keeps the interval
# finite from three seeds on (13.2 standard errors wide each way, 5.4 at five, 3.8 at twenty); a
# larger phi narrows it late and widens it early (1: infinite until five seeds).
PHI = 0.1
METHOD = f"t-test confidence sequence (Lai 1976; Lindon et al. 2024), phi {PHI}"

DIFFERENCE = "difference"
EQUIVALENT = "equivalent within the margin"
UNDECIDED = "undecided"


def log_e_value(t: float | np.ndarray, n: int | np.ndarray, phi: float = PHI) -> np.ndarray:
    """The log e-value of a t statistic ``t`` from ``n`` values (n >= 2) against its null mean."""
    nu = np.asarray(n, float) - 1
    r = phi / (phi + np.asarray(n, float))
    t2 = np.square(t)
    return 0.5 * np.log(r) + 0.5 * (nu + 1) * (np.log1p(t2 / nu) - np.log1p(r * t2 / nu))


def radius_factor(n: int | np.ndarray, alpha: float = ALPHA, phi: float = PHI) -> np.ndarray:
    """The interval's half-width in standard errors (s / sqrt(n)) after ``n`` values: the |t|
    at which the e-value reaches 1 / alpha; infinite where no t reaches it (too few values)."""
    n = np.asarray(n, float)
    nu = n - 1
    r = phi / (phi + n)
    c = (r * alpha**2) ** (1 / (nu + 1))
    with np.errstate(divide="ignore", invalid="ignore"):
        factor = np.sqrt(nu * (1 - c) / (c - r))
    return np.where((n >= 2) & (c > r), factor, np.inf)


@dataclass(frozen=True)
class Decision:
    """A comparison after ``seeds`` seeds: the mean per-seed value, its interval and reading."""

    estimate: float
    low: float
    high: float
    seeds: int
    reading: str

    @property
    def decided(self) -> bool:
        return self.reading != UNDECIDED


def interval(
    values: Sequence[float], alpha: float = ALPHA, floor: float = 0.0
) -> tuple[float, float, float]:
    """(mean, low, high): the confidence sequence's interval after ``values``.

    ``floor`` is the smallest spread believed: per-seed values that agree to the last digit
    (two backends with the same predictions on every seed so far) would otherwise give an
    interval of width zero, a certainty that a measurement of finite resolution cannot give.
    """
    values = np.asarray(values, float)
    mean = float(values.mean()) if len(values) else math.nan
    if len(values) < 2:  # no spread to measure: the interval is the whole line
        return mean, -math.inf, math.inf
    spread = max(float(values.std(ddof=1)), floor)
    half = float(radius_factor(len(values), alpha)) * spread / math.sqrt(len(values))
    return mean, mean - half, mean + half


def decide(
    values: Sequence[float], margin: float, alpha: float = ALPHA, floor: float = 0.0
) -> Decision:
    """Whether the per-seed ``values`` (differences, 0 meaning none) show a difference, show
    equivalence within ``margin``, or leave it undecided (see the module's docstring)."""
    mean, low, high = interval(values, alpha, floor)
    if low > 0 or high < 0:
        reading = DIFFERENCE
    elif -margin < low and high < margin:
        reading = EQUIVALENT
    else:
        reading = UNDECIDED
    return Decision(mean, low, high, len(values), reading)
