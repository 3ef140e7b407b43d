"""Which training jobs to start first: the longest, so no core idles at the end of the run.

With every run one job on one core, the experiment ends when its last job does: if a long mnn
run starts after the short ones it runs on alone while the other cores wait. Snakemake starts
jobs of higher ``priority`` first; :func:`train_priority` gives each train job its expected
seconds on one core, from the samples its plan visits times a per-variant cost per sample
(measured once with ``bench/speed.py``, NumPy backend, one thread). Only the order matters: a
cost off by a factor of two still starts the long runs first.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# Seconds per training sample on one CPU core (NumPy backend, bench/speed.py): batch-8 mlp pays
# per-step overhead, mnn and predictive_coding batch 64, sigmoid_mlp batch 128, dropout_mlp 1.
SECONDS_PER_SAMPLE = {
    "mlp": 2.6 / 60_000,
    "mnn": 0.7 / 60_000,
    "predictive_coding": 0.9 / 60_000,
    "sigmoid_mlp": 0.33 / (500 * 128),
    "dropout_mlp": 0.076 / 1_000,
}


def samples_visited(variant: str, hp: Mapping[str, Any], n_train: int) -> int:
    """Training samples a run's plan visits: what its time grows with."""
    if variant == "sigmoid_mlp":
        return int(hp["iterations"]) * int(hp["batch_size"])
    if variant == "dropout_mlp":
        return int(hp["epochs"]) * min(int(hp["train_samples"]), n_train)
    return int(hp.get("epochs", 1)) * n_train


def train_priority(variant: str, hp: Mapping[str, Any], n_train: int = 60_000) -> int:
    """A train job's Snakemake priority: its expected seconds on one core, at least 1 (a
    variant without a measured cost gets 1, after the measured ones)."""
    cost = SECONDS_PER_SAMPLE.get(variant)
    if cost is None:
        return 1
    return max(1, round(cost * samples_visited(variant, hp, n_train)))
