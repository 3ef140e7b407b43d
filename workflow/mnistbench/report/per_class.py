"""The report's table of classes: how each variant does on each class, and what it takes the
class for, in rows that stay readable at 26 or 47 classes where a matrix's cells are small."""

from __future__ import annotations

import numpy as np
import pandas as pd

from mnistbench.report.order import sorted_naturally


def per_class(confusion: pd.DataFrame, dataset: str) -> pd.DataFrame:
    """One row per class of ``dataset``: its test images and, per variant, the fraction of them
    predicted right and the class they are most often taken for (counts summed over backends
    and seeds, so every run weighs the same)."""
    runs = confusion[confusion["dataset"] == dataset]
    counts = runs.groupby(["variant", "true", "predicted"])["count"].sum()
    images = runs.groupby(["variant", "backend", "seed", "true"])["count"].sum()
    table = pd.DataFrame({"class": sorted(runs["true"].unique())})
    table["test images"] = table["class"].map(images.groupby("true").max())
    for variant in sorted_naturally(runs["variant"].unique()):
        matrix = counts[variant].unstack(fill_value=0).to_numpy(dtype=float)
        totals = matrix.sum(axis=1)
        right = np.diag(matrix) / np.where(totals, totals, np.nan)
        off = matrix - np.diag(np.diag(matrix))
        taken = off.argmax(axis=1)
        share = off[np.arange(len(off)), taken] / np.where(totals, totals, np.nan)
        table[f"{variant} accuracy"] = right
        table[f"{variant} most often taken for"] = [
            f"{t} ({s:.1%})" if s > 0 else "" for t, s in zip(taken, share)
        ]
    return table
