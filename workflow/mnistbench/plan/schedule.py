"""Which training jobs to start first: the longest, so no core idles at the end of the run.

With every run one job on one core, the experiment ends when its last job does: if a long mnn
run starts after the short ones it runs on alone while the other cores wait. Snakemake starts
jobs of higher ``priority`` first; :func:`train_priority` gives each train job its expected
seconds on one core, from the variant's own cost (``Variant.cost``: the samples its plan visits
times its seconds per sample, measured once with ``bench/speed.py``, NumPy backend, one thread).
Only the order matters: a cost off by a factor of two still starts the long runs first.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mnistbench.variants import VARIANTS


def train_priority(variant: str, hp: Mapping[str, Any], n_train: int = 60_000) -> int:
    """A train job's Snakemake priority: its expected seconds on one core, at least 1 (a
    variant without a measured cost gets 1, after the measured ones)."""
    declared = VARIANTS.get(variant)
    if declared is None or declared.cost is None:
        return 1
    return max(1, round(declared.cost.seconds(hp, n_train)))
