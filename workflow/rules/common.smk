# Config validation, the run plan and the input functions every rule uses.
import json
import shlex
import sys
from pathlib import Path

from snakemake.utils import validate

from mnistbench import config as mnistbench_config
from mnistbench import experiment, identity
from mnistbench.datasets import ROLES
from mnistbench.errors import MnistbenchError
from mnistbench.names import NAME_PATTERN

SCHEMA = Path(workflow.current_basedir) / "../schemas/config.schema.yaml"

# Command-line values arrive as strings (seeds=[0,1] as ['0', '1']): make them what each key
# needs, then check the whole config, one line per mistake.
try:
    config.update(mnistbench_config.check(config, mnistbench_config.load_schema(SCHEMA)))
    validate(config, str(SCHEMA))  # fills in the schema's defaults
    EXPERIMENT = experiment.plan(config)
except MnistbenchError as error:
    raise WorkflowError(f"mnistbench: {error}") from None
for note in EXPERIMENT.skipped:
    print(f"mnistbench: {note}", file=sys.stderr)

# The interpreter running Snakemake, so that jobs use the same installed mnistbench.
PYTHON = shlex.quote(sys.executable)
RUN_DIR = experiment.RUN_DIR
LOGS = experiment.LOGS
PARTIAL = "results/partial"  # the report of the runs that finished, after a failed job

# Fingerprints of the code behind each step (see mnistbench/identity.py): passed as params, so
# a code change re-runs exactly the jobs whose outputs it can change.
CODE = {
    "train": identity.core(identity.TRAIN_CODE),
    "evaluate": identity.core(identity.EVALUATE_CODE),
    "aggregate": identity.core(identity.AGGREGATE_CODE),
    "report": identity.core(identity.REPORT_CODE),
}


wildcard_constraints:
    dataset=NAME_PATTERN,
    variant=NAME_PATTERN,
    backend=NAME_PATTERN,
    seed=r"\d+",
    role="|".join(ROLES),


def get_dataset_file(wildcards):
    """The definition of one file of a dataset: name, sha256, optional gz_sha256 and size."""
    return config["dataset_definitions"][wildcards.dataset]["files"][wildcards.role]


def get_fetch_args(wildcards):
    """Command-line arguments naming the file, its digests and the configured mirrors."""
    spec = get_dataset_file(wildcards)
    args = ["--file", spec["name"], "--sha256", spec["sha256"]]
    if "gz_sha256" in spec:
        args += ["--gz-sha256", spec["gz_sha256"]]
    if "size" in spec:
        args += ["--size", str(spec["size"])]
    for mirror in config["dataset_definitions"][wildcards.dataset]["mirrors"]:
        args += ["--mirror", mirror]
    return shlex.join(args)


def get_dataset_files(wildcards):
    """The four verified IDX files of the run's dataset, by role."""
    return {role: f"resources/{wildcards.dataset}/{role}.idx" for role in ROLES}


def get_data_digests(wildcards):
    """``--sha256 role=hex`` per file: train and evaluate refuse data changed since its fetch."""
    files = config["dataset_definitions"][wildcards.dataset]["files"]
    pinned = [f"{role}={files[role]['sha256']}" for role in ROLES]
    return shlex.join(arg for digest in pinned for arg in ("--sha256", digest))


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


def get_train_code(wildcards):
    """The core's training code and the run's backend plugin, as one fingerprint."""
    return f"{CODE['train']}; {EXPERIMENT.fingerprints[wildcards.backend]}"


def get_evaluate_code(wildcards):
    """The core's evaluation code and the run's backend plugin, as one fingerprint."""
    return f"{CODE['evaluate']}; {EXPERIMENT.fingerprints[wildcards.backend]}"


def get_all_metrics(wildcards):
    return [f"{run.directory}/metrics.json" for run in EXPERIMENT.runs]


def get_all_benchmarks(wildcards):
    return [f"{run.directory}/train_benchmark.tsv" for run in EXPERIMENT.runs]


def write_partial_report():
    """After a failed job: a report of the runs that finished, listing the others.

    With ``--keep-going`` this runs once every job that could run has run, so one failed run
    costs nothing else; each failed run is listed with the error line from its log. It goes to
    ``results/partial/``, never to a rule's outputs: Snakemake would take a report there as up
    to date and not run the failed jobs again on the next run.
    """
    metrics = " ".join(shlex.quote(path) for path in get_all_metrics(None))
    shell(
        f"{PYTHON} -m mnistbench -q aggregate --allow-missing {metrics} --out {PARTIAL}"
        f" && {PYTHON} -m mnistbench -q report --tables {PARTIAL} --out {PARTIAL}/report.html"
        f" && echo 'mnistbench: the runs that finished, and why the others did not:"
        f" {PARTIAL}/report.html' >&2 || true"
    )
