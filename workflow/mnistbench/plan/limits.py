"""Settings checked against the data they will run on, before any job is planned.

A batch larger than the training set cannot be what a run does: every backend would take the
whole set as its one batch while the run's tables said the larger size. So a batch size, the
variant's default, the config's or a sweep point's, is at most the training images a run of the
dataset has: ``subset.train`` where set, else the count in the fetched label file's header, else
the count its definition's ``size`` implies. Where none is known yet the check waits for the
files (a definition of MNIST's states its sizes, so a first run is checked too).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from mnistbench.data import datasets, idx
from mnistbench.errors import MnistbenchError
from mnistbench.plan import points as pts

BATCH = "batch_size"  # the hyperparameter every variant that draws batches calls its batch size
LABELS_HEADER = 8  # bytes before the first label of an IDX label file: magic and count


def train_images(definition: Mapping[str, Any], data_dir: str | Path) -> int | None:
    """How many training images the dataset has, as far as is known before training; None if
    nothing says yet."""
    labels = datasets.role_path(data_dir, "train_labels")
    try:
        with open(labels, "rb") as file:
            header = idx.read_header(file.read(LABELS_HEADER), labels)
        if header is not None:
            return header.shape[0]
    except (OSError, MnistbenchError):
        pass  # not fetched yet, or a file the fetch and train steps will refuse by name
    size = definition["files"]["train_labels"].get("size")
    return size - LABELS_HEADER if size else None


def check_batch_sizes(
    config: Mapping[str, Any],
    hyperparameters: Mapping[str, Mapping[str, Any]],
    variant_points: Mapping[str, Sequence[pts.Point]],
    data_dir: str,
) -> None:
    """Refuse, in one line naming the key, a batch size above a dataset's training images.

    ``data_dir`` is the pattern of a dataset's folder (``resources/{dataset}``).
    """
    limit = config.get("subset", {}).get("train")
    for dataset in config["datasets"]:
        definition = config["dataset_definitions"][dataset]
        count = train_images(definition, data_dir.format(dataset=dataset))
        known = [n for n in (limit, count) if n]
        if not known:
            continue
        n_train = min(known)
        source = " (subset.train)" if n_train == limit else ""
        for variant, found in variant_points.items():
            for point in found:
                size = {**hyperparameters[variant], **point}.get(BATCH)
                if isinstance(size, int) and size > n_train:
                    where = _where(config, variant, point)
                    raise MnistbenchError(
                        f"config: {where}: {size} is more than the {n_train} training images of"
                        f" dataset {dataset!r}{source}; a batch is at most the training set"
                    )


def _where(config: Mapping[str, Any], variant: str, point: pts.Point) -> str:
    """The key a batch size came from: the sweep, the config's hyperparameters or the default."""
    if BATCH in point:
        sweep = config.get("sweeps", {}).get(variant, {})
        return pts.where(variant, point) if "points" in sweep else f"sweeps.{variant}.{BATCH}"
    if BATCH in config.get("hyperparameters", {}).get(variant, {}):
        return f"hyperparameters.{variant}.{BATCH}"
    return f"variant {variant!r}: default {BATCH}"
