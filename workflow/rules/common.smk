# Config validation, the run plan and the input functions every rule uses.
import json
import shlex
import sys

from snakemake.utils import validate

from mnistbench import experiment
from mnistbench.datasets import ROLES
from mnistbench.errors import MnistbenchError


validate(config, "../schemas/config.schema.yaml")

try:
    EXPERIMENT = experiment.plan(config)
except MnistbenchError as error:
    raise WorkflowError(f"mnistbench: {error}") from None
for note in EXPERIMENT.skipped:
    print(f"mnistbench: {note}", file=sys.stderr)

# The interpreter running Snakemake, so that jobs use the same installed mnistbench.
PYTHON = shlex.quote(sys.executable)
RUN_DIR = experiment.RUN_DIR


wildcard_constraints:
    dataset=r"[A-Za-z0-9][A-Za-z0-9_.-]*",
    variant=r"[A-Za-z0-9][A-Za-z0-9_.-]*",
    backend=r"[A-Za-z0-9][A-Za-z0-9_.-]*",
    seed=r"\d+",
    role="|".join(ROLES),


def get_dataset_file(wildcards):
    """The definition of one file of a dataset: name, sha256 and optional gz_sha256."""
    return config["dataset_definitions"][wildcards.dataset]["files"][wildcards.role]


def get_fetch_args(wildcards):
    """Command-line arguments naming the file, its digests and the configured mirrors."""
    spec = get_dataset_file(wildcards)
    args = ["--file", spec["name"], "--sha256", spec["sha256"]]
    if "gz_sha256" in spec:
        args += ["--gz-sha256", spec["gz_sha256"]]
    for mirror in config["dataset_definitions"][wildcards.dataset]["mirrors"]:
        args += ["--mirror", mirror]
    return shlex.join(args)


def get_dataset_files(wildcards):
    """The four verified IDX files of the run's dataset, by role."""
    return {role: f"resources/{wildcards.dataset}/{role}.idx" for role in ROLES}


def get_train_args(wildcards):
    """Hyperparameters, device, class count and subset of a run, as command-line arguments.

    They are a rule parameter, so changing one hyperparameter re-runs only the runs it touches.
    """
    subset = config.get("subset", {})
    args = [
        "--hparams", json.dumps(EXPERIMENT.hyperparameters[wildcards.variant], sort_keys=True),
        "--device", config.get("devices", {}).get(wildcards.backend, "auto"),
        "--classes", str(config["dataset_definitions"][wildcards.dataset]["classes"]),
    ]
    if subset.get("train"):
        args += ["--train-limit", str(subset["train"])]
    if subset.get("test"):
        args += ["--test-limit", str(subset["test"])]
    return shlex.join(args)


def get_all_metrics(wildcards):
    return [f"{run.directory}/metrics.json" for run in EXPERIMENT.runs]


def get_all_benchmarks(wildcards):
    return [f"{run.directory}/train_benchmark.tsv" for run in EXPERIMENT.runs]
