"""The experiment a config describes: validated, and expanded into the list of runs.

The Snakefile calls :func:`plan` once while it builds the DAG; everything that can be wrong
with a config beyond its JSON schema (an unknown variant, dataset or backend, a hyperparameter a
variant does not have, a backend that cannot run here) is reported here in one line.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import logging
import os
import re
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mnistbench.data import datasets
from mnistbench.data.shapes import Conventions
from mnistbench.errors import MnistbenchError
from mnistbench.plan import implementations, limits, planned_out, sweeps
from mnistbench.plan import points as points_
from mnistbench.plan.names import refuse_typo
from mnistbench.plugin.registry import Registry, load_backends
from mnistbench.plugin.variant_registry import installed_variants, left_out
from mnistbench.variants import get_variant

log = logging.getLogger(__name__)
# Where each run's outputs and its jobs' logs go; also the rules' patterns. Every run has the same
# depth: a run that sweeps nothing is at the point named ``default`` (see mnistbench.plan.points).
RUN_DIR = "results/{dataset}/{variant}/{backend}/{point}/seed{seed}"
# Where a run's training job keeps its checkpoint while it trains: not an output, since Snakemake
# deletes a job's outputs before running it again, and the checkpoint must outlive the attempt.
CHECKPOINT_DIR = "checkpoints/{dataset}/{variant}/{backend}/{point}/seed{seed}"
DATA_DIR = "resources/{dataset}"  # where the fetch step puts a dataset's verified files
LOGS = {
    step: f"logs/{step}/{{dataset}}/{{variant}}/{{backend}}/{{point}}/seed{{seed}}.log"
    for step in ("train", "evaluate")
}
_RUN_DIR_RE = re.compile(
    RUN_DIR.replace("{seed}", r"(?P<seed>\d+)").format(
        dataset="(?P<dataset>[^/]+)",
        variant="(?P<variant>[^/]+)",
        backend="(?P<backend>[^/]+)",
        point="(?P<point>[^/]+)",
    )
    + "$"
)


# The device each backend's runs use, as decided by the Snakemake process that built the DAG
# (JSON, backend -> cpu or cuda). Cluster jobs inherit it with the environment and re-read it,
# so that a job on a node with other hardware keeps the decision its resources were asked for.
DEVICES_ENV = "MNISTBENCH_DEVICES"
# The config's mappings keyed by backend name. Settings for a backend that is not installed are
# set aside with one note, so one config file serves every set of installed backends.
PER_BACKEND_SETTINGS = ("devices", "implementations")


@dataclass(frozen=True, order=True)
class Run:
    """One training run of the benchmark: its point is the folder name of its swept settings."""

    dataset: str
    variant: str
    backend: str
    point: str
    seed: int

    @property
    def directory(self) -> str:
        return RUN_DIR.format(**dataclasses.asdict(self))

    def log(self, step: str) -> str:
        """The log file of this run's ``step`` job (``train`` or ``evaluate``)."""
        return LOGS[step].format(**dataclasses.asdict(self))

    @classmethod
    def from_directory(cls, directory: str | Path) -> Run:
        """The run whose outputs go to ``directory`` (a prefix before ``results/`` is ignored)."""
        match = _RUN_DIR_RE.search(Path(directory).as_posix())
        if not match:
            raise MnistbenchError(f"{directory}: not a run folder ({RUN_DIR})")
        return cls(**{**match.groupdict(), "seed": int(match["seed"])})


@dataclass(frozen=True)
class Experiment:
    runs: list[Run]
    hyperparameters: dict[str, dict[str, Any]]  # per variant, defaults updated by the config
    skipped: list[str] = field(default_factory=list)  # why planned combinations were dropped
    fingerprints: dict[str, str] = field(default_factory=dict)  # per backend, see identity.py
    points: dict[str, points_.Point] = field(default_factory=dict)  # folder name -> settings
    planned_out: list[dict[str, str]] = field(default_factory=list)  # see plan.planned_out

    def run_hyperparameters(self, variant: str, point: str) -> dict[str, Any]:
        """The variant's hyperparameters with the point's swept ones in place."""
        settings = self.points.get(point, {})
        swept = {k: v for k, v in settings.items() if k not in points_.RUN_SETTINGS}
        return {**self.hyperparameters[variant], **swept}


def _backends(config: Mapping[str, Any], registry: Registry) -> tuple[list[str], list[str]]:
    notes = [f"backend plugin {f.plugin!r} failed to load: {f.error}" for f in registry.failures]
    if config["backends"] == "all":
        names = registry.available()
        for name, backend in sorted(registry.backends.items()):
            reason = backend.unavailable_reason()
            if reason:
                notes.append(f"backend {name!r} skipped: {reason}")
        if not names:
            raise MnistbenchError("config: backends is 'all' but no backend can run here")
        return names, notes
    for name in config["backends"]:
        registry.get(name)  # raises, naming the backend and why it cannot run
    return list(config["backends"]), notes


def _with_variants(config: Mapping[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """``config`` with ``variants: all`` made the list of every installed variant, and the notes
    to print: each variant plugin that failed to load (the others run, as with backends).

    Hyperparameters for a variant that is not installed are left out with a note naming the
    installed ones, so a config file may tune a plugin's variant (config/quick.yaml tunes lenet)
    that this environment lacks; a name close to an installed variant's (``mlpp``) is a typo,
    and an error. A variant the list names must be installed (see :func:`plan`).
    """
    found = installed_variants()
    notes = [f"variant plugin {f.plugin!r} failed to load: {f.error}" for f in found.failures]
    failed = {f.plugin for f in found.failures}  # already named in a note
    overrides = dict(config.get("hyperparameters", {}))
    installed = ", ".join(sorted(found.variants))
    for name in [v for v in overrides if v not in found.variants]:
        refuse_typo(name, found.variants, "variant", "hyperparameters")
        del overrides[name]
        if name not in failed:
            notes.append(
                f"hyperparameters for variant {name!r} left out: it is not installed "
                f"(installed: {installed})"
            )
    variants = config["variants"]
    if variants == "all" and not found.variants:
        raise MnistbenchError("config: variants is 'all' but no variant is installed")
    variants = sorted(found.variants) if variants == "all" else list(variants)
    return {**config, "variants": variants, "hyperparameters": overrides}, notes


def _without_uninstalled_backends(
    config: Mapping[str, Any], registry: Registry
) -> tuple[dict[str, Any], list[str]]:
    """``config`` with its per-backend settings (:data:`PER_BACKEND_SETTINGS`) for backends that
    are not installed set aside, and one note per such backend, so the shipped configs run with
    whatever backends this environment has; a name close to an installed backend's is a typo,
    and an error."""
    installed = sorted(registry.backends)
    failed = {f.plugin for f in registry.failures}  # already named in a note
    config, set_aside = dict(config), {}
    for key in PER_BACKEND_SETTINGS:
        settings = dict(config.get(key) or {})
        for name in [b for b in settings if b not in registry.backends]:
            refuse_typo(name, installed, "backend", key)
            del settings[name]
            set_aside.setdefault(name, []).append(key)
        if key in config:
            config[key] = settings
    notes = [
        f"{', '.join(keys)} for backend {name!r} set aside: it is not installed "
        f"(installed: {', '.join(installed) or 'none'})"
        for name, keys in set_aside.items()
        if name not in failed
    ]
    return config, notes


def plan(config: Mapping[str, Any], registry: Registry | None = None) -> Experiment:
    """Check ``config`` (already schema-valid) and list its runs, sorted."""
    config, variant_notes = _with_variants(config)
    definitions = config["dataset_definitions"]
    for dataset in config["datasets"]:
        if dataset not in definitions:
            raise MnistbenchError(
                f"config: dataset {dataset!r} has no entry in dataset_definitions "
                f"(defined: {', '.join(sorted(definitions))})"
            )
    overrides = config.get("hyperparameters", {})
    hyperparameters = {
        v: get_variant(v).hyperparameters(overrides.get(v)) for v in config["variants"]
    }
    for key in ("hyperparameters", "sweeps"):
        for variant in config.get(key, {}):
            try:  # a typo in a variant's name is an error, not ignored
                get_variant(variant)
            except MnistbenchError as error:
                raise MnistbenchError(f"config: {key}: {error}") from None
    variant_points = {
        v: sweeps.variant_points(
            get_variant(v),
            config.get("sweeps", {}).get(v),
            overrides.get(v),
            config.get("threads", 1),
        )
        for v in config["variants"]
    }
    limits.check_batch_sizes(config, hyperparameters, variant_points, DATA_DIR)
    registry = registry or load_backends()
    backends, skipped = _backends(config, registry)
    for name in backends:  # listing a backend's variants checks the plugins' step modules
        registry.backends[name].variants  # noqa: B018
        skipped += left_out(name)
    config, setting_notes = _without_uninstalled_backends(config, registry)
    skipped[:0] = variant_notes + setting_notes
    skipped += implementations.check(config, registry, installed_variants().variants)
    unfit = shape_notes(config)
    runs, named, not_run = [], {}, planned_out.unusable_backends(config, registry)
    for dataset, variant, backend in itertools.product(
        config["datasets"], config["variants"], backends
    ):
        if variant not in registry.backends[backend].variants:
            note = f"backend {backend!r} does not implement variant {variant!r}"
        elif (dataset, variant) in unfit:
            note = unfit[(dataset, variant)]
        else:
            found = variant_points[variant]
            on_backend = sweeps.backend_points(found, backend, config, registry, skipped)
            kept = implementations.backend_points(
                on_backend, variant, backend, config, registry, skipped
            )
            for point in kept:
                folder = points_.name(point)
                named[folder] = point
                runs += [Run(dataset, variant, backend, folder, seed) for seed in config["seeds"]]
            for point in [p for p in found if "device" in p and p not in on_backend]:
                reason = f"backend {backend!r} cannot use device {point['device']!r} here"
                not_run.append(
                    planned_out.row(dataset, variant, backend, reason, points_.name(point))
                )
            lacking, reason = implementations.missing(variant, backend, config, registry)
            not_run += [
                planned_out.row(dataset, variant, backend, reason, f"implementation={name}")
                for name in lacking
            ]
            continue
        not_run.append(planned_out.row(dataset, variant, backend, note))
        if note not in skipped:
            skipped.append(note)
    if not runs:
        raise MnistbenchError("config: no (variant, backend) pair is implemented; nothing to run")
    fingerprints = {name: registry.fingerprints.get(name, name) for name in backends}
    not_run = planned_out.for_every_run(not_run, config)
    return Experiment(
        sorted(runs), hyperparameters, skipped, fingerprints, named, planned_out=not_run
    )


def shape_notes(config: Mapping[str, Any]) -> dict[tuple[str, str], str]:
    """(dataset, variant) -> why the variant cannot take the dataset's shape, one line each.

    The shape is known from the fetched files in resources/, or from a definition declaring
    classes and image_size; where it is not yet known the train step checks it.
    """
    notes = {}
    for dataset in config["datasets"]:
        read_as = Conventions.from_definition(config["dataset_definitions"][dataset])
        shape = datasets.known_shape(DATA_DIR.format(dataset=dataset), read_as)
        for variant in config["variants"] if shape else ():
            if reason := get_variant(variant).refuses(shape):
                notes[(dataset, variant)] = (
                    f"variant {variant!r} skipped on dataset {dataset!r} ({shape}): {reason}"
                )
    return notes


def run_device(
    config: Mapping[str, Any],
    backend: str,
    registry: Registry | None = None,
    environ: MutableMapping[str, str] = os.environ,
) -> str:
    """``cpu`` or ``cuda``: where ``backend``'s runs train and evaluate, decided once.

    The config's ``devices`` entry, where ``auto`` means CUDA if this machine (the one building
    the DAG) has a GPU the backend can use, else CPU. Nothing is checked for ``cuda``: on a
    cluster the GPU is on the node the job will get, not here. The decision goes into
    :data:`DEVICES_ENV`, and one already there (inherited from the Snakemake that submitted
    this job) is kept.
    """
    decided = json.loads(environ.get(DEVICES_ENV) or "{}")
    if backend not in decided:
        wanted = config.get("devices", {}).get(backend, "auto")
        if isinstance(wanted, list):  # a device sweep: each point names its device
            raise MnistbenchError(f"backend {backend!r}: a swept device comes from the point")
        if wanted == "auto":
            wanted = (registry or load_backends()).get(backend).devices()[0]
        decided[backend] = wanted
        environ[DEVICES_ENV] = json.dumps(decided, sort_keys=True)
    return decided[backend]
