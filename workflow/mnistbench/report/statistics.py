"""The statistics behind every comparison the report and ``compare`` print, from scipy.stats.

Each function names its method, so a table can say under itself how its interval or p-value
was found:

- accuracy of one backend: a Student's t interval over seeds, or with one seed a Wilson
  interval on the test set (:func:`accuracy_interval`);
- two runs on the same test images: McNemar's exact test, a binomial test on the discordant
  pairs, with the seeds' pairs pooled (:func:`mcnemar`);
- a speed-up: a percentile bootstrap of the ratio of medians, over seeds and epochs
  (:func:`two_stage_speedup_interval`) or over seeds alone (:func:`speedup_interval`);
- many tests at once: Benjamini-Hochberg's false discovery rate (:func:`benjamini_hochberg`);
- whether a speed verdict can be made at all (:func:`speed_verdict_possible`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats

CONFIDENCE = 0.95
BOOTSTRAP_RESAMPLES = 9999
BOOTSTRAP_SEED = 0  # every bootstrap draws from this seed: the report is reproducible

T_METHOD = "Student's t over seeds"
WILSON_METHOD = "Wilson, on the test images (one seed)"
WILSON_SAME_METHOD = "Wilson, on the test images (every seed the same accuracy)"
MCNEMAR_METHOD = "McNemar's exact test (binomial on the discordant pairs, seeds pooled)"
BOOTSTRAP_METHOD = f"percentile bootstrap, {BOOTSTRAP_RESAMPLES:,} resamples, seed {BOOTSTRAP_SEED}"
TWO_STAGE_METHOD = (
    f"two-stage percentile bootstrap (seeds, then epochs within each), "
    f"{BOOTSTRAP_RESAMPLES:,} resamples, seed {BOOTSTRAP_SEED}"
)
BH_METHOD = "Benjamini-Hochberg"


# A speed verdict needs repeats across processes -----------------------------------------------

SPEED_REPEATS = 2  # runs (processes: seeds or repeated runs) each side needs for a speed verdict
ONE_RUN = "one run: not tested"  # the reading where a side has fewer


def speed_verdict_possible(*runs_per_side: int) -> bool:
    """Whether a speed comparison can carry a verdict: every side has at least
    :data:`SPEED_REPEATS` runs, each its own process.

    The epochs of one process share its machine state (caches, clocks, neighbours' load), so
    their spread is not the run-to-run spread a user will meet: one run's epochs, however many,
    decide nothing. The report's speed-ups and ``compare``'s timing flags both ask here.
    """
    return all(n >= SPEED_REPEATS for n in runs_per_side)


@dataclass(frozen=True)
class Interval:
    low: float
    high: float
    method: str

    def holds(self, value: float) -> bool:
        return self.low <= value <= self.high


def wilson_interval(correct: int, n: int, confidence: float = CONFIDENCE) -> Interval:
    """Wilson score interval for ``correct`` successes in ``n`` trials."""
    ci = stats.binomtest(int(correct), int(n)).proportion_ci(confidence, method="wilson")
    return Interval(float(ci.low), float(ci.high), WILSON_METHOD)


def t_interval(values: Sequence[float], confidence: float = CONFIDENCE) -> Interval:
    """Student's t interval for the mean of ``values`` (at least two)."""
    values = np.asarray(values)
    mean, sem = values.mean(), stats.sem(values)
    low, high = stats.t.interval(confidence, len(values) - 1, loc=mean, scale=sem)
    return Interval(float(low), float(high), T_METHOD)


def accuracy_interval(accuracies: Sequence[float], test_images: int) -> Interval:
    """The interval of a mean accuracy: over seeds where there are two or more, else Wilson's
    on the one run's test images (its accuracy times their number correct).

    Seeds that all reach the same accuracy give a t interval of width zero, which would claim
    a certainty the test set cannot give: Wilson's interval on the test images stands instead.
    """
    accuracies = [a for a in accuracies if not math.isnan(a)]
    if len(accuracies) >= 2 and len(set(accuracies)) > 1:
        return t_interval(accuracies)
    interval = wilson_interval(round(accuracies[0] * test_images), test_images)
    if len(accuracies) >= 2:
        return Interval(interval.low, interval.high, WILSON_SAME_METHOD)
    return interval


@dataclass(frozen=True)
class PairedTest:
    """Two classifiers on the same images: where they disagree and whether it is luck.

    ``first_only``: images the first gets right and the second wrong; ``second_only`` the
    reverse. ``difference`` is the second's accuracy minus the first's over all ``pairs``.
    """

    first_only: int
    second_only: int
    pairs: int
    p: float
    difference: Interval


def mcnemar(
    first_only: int, second_only: int, pairs: int, confidence: float = CONFIDENCE
) -> PairedTest:
    """McNemar's exact test: under no difference each discordant pair falls either way with
    probability 1/2, so ``second_only`` of the discordant pairs is binomial(n, 1/2)
    (``binomtest``'s own null).

    The difference's interval is the Clopper-Pearson interval of that binomial's proportion
    (``proportion_ci``'s own method), scaled to the whole test set: it holds 0 exactly when
    p > 1 - confidence, as the test reads.
    """
    discordant = first_only + second_only
    if discordant == 0:
        return PairedTest(0, 0, pairs, 1.0, Interval(0.0, 0.0, MCNEMAR_METHOD))
    test = stats.binomtest(second_only, discordant)
    ci = test.proportion_ci(confidence)
    scale = discordant / pairs  # difference = scale * (2 * share of second_only - 1)
    interval = Interval(scale * (2 * ci.low - 1), scale * (2 * ci.high - 1), MCNEMAR_METHOD)
    return PairedTest(first_only, second_only, pairs, float(test.pvalue), interval)


def paired_test(runs: Iterable[tuple[np.ndarray, np.ndarray]]) -> PairedTest:
    """McNemar's exact test on ``(first correct, second correct)`` arrays, one pair of arrays
    per seed, the discordant pairs of every seed pooled.

    Correctness is boolean, or 0 and 1 in any numeric type (a CSV column with gaps reads back
    as floats)."""
    first_only = second_only = pairs = 0
    for first, second in runs:
        first, second = np.asarray(first, bool), np.asarray(second, bool)
        first_only += int((first & ~second).sum())
        second_only += int((second & ~first).sum())
        pairs += len(first)
    return mcnemar(first_only, second_only, pairs)


def ratio_of_medians(numerator: np.ndarray, denominator: np.ndarray, axis: int = -1):
    """median(numerator) / median(denominator) along ``axis``: a speed-up, from times."""
    return np.median(numerator, axis=axis) / np.median(denominator, axis=axis)


def speedup_interval(
    baseline: Sequence[float], times: Sequence[float], confidence: float = CONFIDENCE
) -> Interval | None:
    """Bootstrap interval of median(baseline) / median(times), each sample resampled on its own.

    None where either sample has fewer than two values: nothing to resample. scipy hands
    :func:`ratio_of_medians` every resample at once, since it takes an ``axis``.
    """
    baseline, times = np.asarray(baseline), np.asarray(times)
    if len(baseline) < 2 or len(times) < 2:
        return None
    if np.ptp(baseline) == 0 and np.ptp(times) == 0:  # no spread: every resample the same
        ratio = float(ratio_of_medians(baseline, times))
        return Interval(ratio, ratio, BOOTSTRAP_METHOD)
    result = stats.bootstrap(
        (baseline, times),
        ratio_of_medians,
        n_resamples=BOOTSTRAP_RESAMPLES,
        confidence_level=confidence,
        method="percentile",
        rng=np.random.default_rng(BOOTSTRAP_SEED),
    )
    ci = result.confidence_interval
    return Interval(float(ci.low), float(ci.high), BOOTSTRAP_METHOD)


def benjamini_hochberg(pvalues: Sequence[float]) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (q), ``false_discovery_control``'s own method; NaN
    stays NaN and is not counted as a test."""
    pvalues = np.asarray(pvalues, float)
    adjusted = np.full(pvalues.shape, np.nan)
    tested = ~np.isnan(pvalues)
    if tested.any():
        adjusted[tested] = stats.false_discovery_control(pvalues[tested])
    return adjusted


def two_stage_bootstrap_medians(
    runs: Sequence[Sequence[float]], resamples: int, rng: np.random.Generator
) -> np.ndarray:
    """Medians over runs of each run's mean, for ``resamples`` two-stage bootstrap resamples:
    the runs (seeds) drawn with replacement, then each drawn run's values (epochs) drawn with
    replacement from its own. Returns an array of ``resamples`` medians.

    scipy.stats.bootstrap resamples one level only; seeds and epochs vary on two.
    """
    slots = len(runs)
    picked = rng.integers(slots, size=(resamples, slots))  # which run fills each slot
    means = np.empty((resamples, slots))
    for index, values in enumerate(runs):
        # every slot's own draw of this run's epochs, kept where the slot picked this run
        drawn = rng.choice(values, size=(resamples, slots, len(values))).mean(axis=-1)
        chosen = picked == index
        means[chosen] = drawn[chosen]
    return np.median(means, axis=1)


def two_stage_speedup_interval(
    baseline_runs: Sequence[Sequence[float]],
    runs: Sequence[Sequence[float]],
    confidence: float = CONFIDENCE,
) -> Interval | None:
    """Percentile interval of median(baseline run means) / median(run means), bootstrapping
    seeds and epochs (:func:`two_stage_bootstrap_medians`); None where a side has fewer than
    two values in all (one run of one epoch: nothing varies)."""
    if sum(map(len, baseline_runs)) < 2 or sum(map(len, runs)) < 2:
        return None
    rng = np.random.default_rng(BOOTSTRAP_SEED)
    ratios = two_stage_bootstrap_medians(
        baseline_runs, BOOTSTRAP_RESAMPLES, rng
    ) / two_stage_bootstrap_medians(runs, BOOTSTRAP_RESAMPLES, rng)
    tail = (1 - confidence) / 2
    low, high = np.quantile(ratios, [tail, 1 - tail])
    return Interval(float(low), float(high), TWO_STAGE_METHOD)
