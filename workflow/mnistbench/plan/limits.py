"""Settings checked against the data and the cores they will run on, before any job is planned.

A batch larger than the training set cannot be what a run does: every backend would take the
whole set as its one batch while the run's tables said the larger size. So a batch size, the
variant's default, the config's or a sweep point's, is at most the training images a run of the
dataset has: ``subset.train`` where set, else the count in the fetched label file's header, else
the count its definition's ``size`` implies. Where none is known yet the check waits for the
files (a definition of MNIST's states its sizes, so a first run is checked too).

Likewise a thread count is at most the threads Snakemake will give a job (:func:`job_cores`):
it would run the job with fewer, and the run would be labelled with a count it never had.
"""

from __future__ import annotations

import os
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


def job_cores(cores: int | None, max_threads: int | None) -> tuple[int, str]:
    """The most threads a job of this Snakemake run gets, and what says so.

    Snakemake gives a job at most ``--cores`` and ``--max-threads`` threads, silently; where it
    is told neither (a cluster executor), a job gets what it asks for, and this machine's cores
    stand in for the nodes' (give ``--max-threads`` for nodes with more).
    """
    given = [(n, f"--{flag} {n}") for n, flag in ((cores, "cores"), (max_threads, "max-threads"))]
    given = [(n, source) for n, source in given if n]
    if given:
        return min(given)
    machine = os.cpu_count() or 1
    return machine, f"the {machine} cores of this machine"


def check_threads(config: Mapping[str, Any], most: int, source: str) -> None:
    """Refuse a thread count, single or swept, that a job could not have: Snakemake would run it
    with fewer threads while its folder and tables said the count asked for."""
    for key, count in _thread_counts(config):
        if count > most:
            raise MnistbenchError(
                f"config: {key}: {count} threads is more than the {most} a job can have here"
                f" ({source}); ask for at most {most}, or give Snakemake more cores"
            )


def _thread_counts(config: Mapping[str, Any]) -> list[tuple[str, int]]:
    """Every thread count the config asks for, with the key it is under."""
    threads = config.get("threads", 1)
    found = (
        [(f"threads[{i}]", n) for i, n in enumerate(threads)]
        if isinstance(threads, list)
        else [("threads", threads)]
    )
    for variant, sweep in config.get("sweeps", {}).items():
        found += [(f"sweeps.{variant}.threads", n) for n in sweep.get("threads", [])]
        for point in sweep.get("points", []):
            if "threads" in point:
                found.append((pts.where(variant, point), point["threads"]))
    return found
