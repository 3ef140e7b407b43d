# Config validation, the run plan and the input functions every rule uses.
import functools
import inspect
import json
import os
import shlex
import sys
from pathlib import Path

from snakemake.common import overwrite_function_params
from snakemake.settings.types import DeploymentMethod
from snakemake.utils import validate

from mnistbench.plan import bundles
from mnistbench.plan import config as mnistbench_config
from mnistbench.plan import experiment
from mnistbench.plan import identity
from mnistbench.plan import limits
from mnistbench.plan import planned_out
from mnistbench.plan import points
from mnistbench.plan import schedule
from mnistbench.plan import seed_plan
from mnistbench.plugin.registry import load_backends
from mnistbench.plugin.variant_registry import installed_variants
from mnistbench.data.datasets import ROLES
from mnistbench.errors import MnistbenchError
from mnistbench.plan.names import NAME_PATTERN

SCHEMA = Path(workflow.current_basedir) / "../schemas/config.schema.yaml"

# Command-line values arrive as strings (seeds=[0,1] as ['0', '1']): make them what each key
# needs, then check the whole config, one line per mistake.
try:
    config.update(mnistbench_config.check(config, mnistbench_config.load_schema(SCHEMA)))
    validate(config, str(SCHEMA))  # fills in the schema's defaults
    REGISTRY = load_backends()  # loaded once: the plan and each backend's device use it
    # A seed plan's first seeds; its later ones are planned look by look (rules/seed_plan.smk).
    EXPERIMENT = experiment.plan(
        {**config, "seeds": seed_plan.first_seeds(config["seeds"])}, REGISTRY
    )
    settings = workflow.resource_settings
    limits.check_threads(config, *limits.job_cores(settings.cores, settings.max_threads))
except MnistbenchError as error:
    # One line, not Snakemake's "WorkflowError in file ..." around it: the line names the key.
    print(f"mnistbench: {error}", file=sys.stderr)
    sys.exit(1)
for note in EXPERIMENT.skipped:
    print(f"mnistbench: {note}", file=sys.stderr)
# The runs the config asked for and the plan left out, for the report's "Not run" section.
planned_out.write(EXPERIMENT.planned_out, planned_out.PATH)

# The interpreter running Snakemake (for the onerror report; rules get JOB_PYTHON).
PYTHON = shlex.quote(sys.executable)
# With --sdm conda each rule runs in its environment from workflow/envs (get_conda_env).
CONDA = DeploymentMethod.CONDA in workflow.deployment_settings.deployment_method
ENVS = Path(workflow.current_basedir).parent / "envs"
RUN_DIR = experiment.RUN_DIR
LOGS = experiment.LOGS
PARTIAL = "results/partial"  # the report of the runs that finished, after a failed job
# JAX compiles each run's training and predict functions; a persistent cache lets the other seeds
# and the evaluate jobs reuse them (a few seconds per job). Jobs inherit it from this process;
# a cache the user already set wins. Other backends ignore it.
os.environ.setdefault("JAX_COMPILATION_CACHE_DIR", str(Path("resources/.jax-cache").resolve()))

# Fingerprints of the code behind each step (see mnistbench/plan/identity.py): passed as params, so
# a code change re-runs exactly the jobs whose outputs it can change.
CODE = {step: identity.step(step) for step in identity.STEP_MODULES}


wildcard_constraints:
    dataset=NAME_PATTERN,
    variant=NAME_PATTERN,
    backend=NAME_PATTERN,
    point=points.NAME_PATTERN,
    seed=r"\d+",
    role="|".join(ROLES),


# The jobs' interpreter: the conda environment's with --sdm conda; else the one running
# Snakemake, so that jobs use the same installed mnistbench and backends. A value, not a
# function: Snakemake then has nothing to call for each of thousands of jobs.
JOB_PYTHON = "python" if CONDA else sys.executable


def get_conda_env(wildcards):
    """The run's environment for --sdm conda: workflow/envs/<backend>.yaml.

    Without --sdm conda no environment is needed, and none is named: Snakemake would otherwise
    build a conda spec for every job (seconds for a sweep of thousands). A backend from another
    distribution has none here: with --sdm conda that is an error naming the file to add.
    """
    if not CONDA:
        return None  # no environment: Snakemake then builds no conda spec for each of the jobs
    env = ENVS / f"{wildcards.backend}.yaml"
    if env.exists():
        return str(env)
    raise WorkflowError(
        f"mnistbench: backend {wildcards.backend!r} has no conda environment"
        f" ({env.relative_to(ENVS.parent.parent)}); add one, or run without --sdm conda"
    )


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


# The four verified IDX files of a run's dataset, by role: patterns Snakemake fills in.
DATASET_FILES = {role: f"{experiment.DATA_DIR}/{role}.idx" for role in ROLES}


def get_data_folder(wildcards, input):
    """The folder of the run's dataset files, from its inputs (as executors without a shared
    file system expect)."""
    return os.path.dirname(input.train_images)


def get_run_folder(wildcards, input):
    """The run's folder, from the weights an evaluate job reads."""
    return os.path.dirname(input.weights)


def get_out_folder(wildcards, output):
    """The run's folder, from the weights a train job writes."""
    return os.path.dirname(output.weights)


def get_data_digests(wildcards):
    """``--sha256 role=hex`` per file: train and evaluate refuse data changed since its fetch."""
    files = config["dataset_definitions"][wildcards.dataset]["files"]
    pinned = [f"{role}={files[role]['sha256']}" for role in ROLES]
    return shlex.join(arg for digest in pinned for arg in ("--sha256", digest))


def get_dataset_args(wildcards):
    """How the run's dataset is read, from its definition: declared classes and image size
    (checked against the files), label offset and transposition."""
    definition = config["dataset_definitions"][wildcards.dataset]
    args = []
    if "classes" in definition:
        args += ["--classes", str(definition["classes"])]
    if definition.get("label_offset"):
        args += ["--label-offset", str(definition["label_offset"])]
    if definition.get("transpose"):
        args += ["--transpose"]
    if "image_size" in definition:
        args += ["--image-size", *map(str, definition["image_size"])]
    return args


def get_point(wildcards):
    """The run's swept settings (empty for a run that sweeps nothing); see mnistbench.plan.points."""
    return EXPERIMENT.points[wildcards.point]


def get_hyperparameters(wildcards):
    """The variant's hyperparameters, the config's overrides and the run's point applied."""
    return EXPERIMENT.run_hyperparameters(wildcards.variant, wildcards.point)


def get_threads(wildcards):
    """The threads of the run's jobs: its point's, else the config's one thread count."""
    return get_point(wildcards).get("threads") or config["threads"]


def get_train_args(wildcards):
    """Hyperparameters, device, dataset options, subset, learning-curve points and point of a
    run, as command-line arguments.

    They are a rule parameter, so changing one hyperparameter re-runs only the runs it touches.
    A run that sweeps nothing is given no ``--point``: its command line is what it was before
    sweeps existed.
    """
    subset = config.get("subset", {})
    args = [
        "--hparams",
        json.dumps(get_hyperparameters(wildcards), sort_keys=True),
        "--device",
        get_device(wildcards),
        *get_dataset_args(wildcards),
        "--curve-points",
        str(config["curve_points"]),
    ]
    if subset.get("train"):
        args += ["--train-limit", str(subset["train"])]
    if subset.get("test"):
        args += ["--test-limit", str(subset["test"])]
    if get_point(wildcards):
        args += ["--point", json.dumps(get_point(wildcards), sort_keys=True)]
    if "threads" not in get_point(wildcards) and get_threads(wildcards) != 1:
        # The thread count fixes a run: here, where a change re-runs it (one thread, the
        # default, adds nothing, so a run's command line is what it was before).
        args += ["--threads", str(get_threads(wildcards))]
    return shlex.join(args)


def get_train_priority(wildcards):
    """Longest runs first (mnistbench.plan.schedule), so no core idles while the last one finishes."""
    n_train = config.get("subset", {}).get("train") or 60000
    return schedule.train_priority(wildcards.variant, get_hyperparameters(wildcards), n_train)


def get_device(wildcards):
    """cpu or cuda: the device of the run's jobs: its point's, else decided where the DAG is
    built (auto: CUDA if this machine has a GPU the backend can use); see
    mnistbench.plan.experiment.run_device."""
    return get_point(wildcards).get("device") or backend_device(wildcards.backend)


@functools.cache
def backend_device(backend):
    """The device of the backend's runs that sweep none, decided once per backend."""
    return experiment.run_device(config, backend, REGISTRY)


def get_gpus(wildcards):
    """The run's GPU request: 1 on CUDA, else 0 (a resource every executor can read)."""
    return int(get_device(wildcards) == "cuda")


def get_job_group(wildcards):
    """The cluster bundle a run's jobs join: ``gpu_run`` on CUDA, ``cpu_runs`` on the CPU.

    Ignored when Snakemake runs jobs itself. On a cluster, each run's train and evaluate jobs
    form one component of the group; profiles/slurm bundles several CPU runs into one job
    (group-components) and keeps one GPU run per job, so every GPU run has a GPU of its own.
    """
    return "gpu_run" if get_gpus(wildcards) else "cpu_runs"


def get_gpu_model(wildcards):
    """The configured gpu_model for a run on CUDA; empty (any GPU, or none) otherwise."""
    return (config.get("gpu_model") or "") if get_gpus(wildcards) else ""


def get_train_mem_mb(wildcards):
    """Memory of a train job: peak 0.8 GB on the CPU (PyTorch, full MNIST), with room; a GPU
    job's host side also holds the CUDA runtime."""
    return 4000 if get_gpus(wildcards) else 2000


def get_evaluate_mem_mb(wildcards):
    """Memory of an evaluate job: peak 0.4 GB on the CPU (PyTorch, full MNIST), with room."""
    return 3000 if get_gpus(wildcards) else 1000


@functools.cache
def variant_code(variant):
    """The code that declares ``variant`` (a built-in's module, a plugin's package), hashed once
    per variant: files are read and parsed for the first job only, not for each of thousands."""
    return installed_variants().fingerprint(variant)


def get_variant_code(wildcards):
    """The code that declares the run's variant, as a fingerprint."""
    return variant_code(wildcards.variant)


def get_train_code(wildcards):
    """The core's training code, the run's backend plugin and its variant, as one fingerprint."""
    backend = EXPERIMENT.fingerprints[wildcards.backend]
    return f"{CODE['train']}; {backend}; {get_variant_code(wildcards)}"


def get_evaluate_code(wildcards):
    """The core's evaluation code, the run's backend plugin and its variant, as one fingerprint."""
    backend = EXPERIMENT.fingerprints[wildcards.backend]
    return f"{CODE['evaluate']}; {backend}; {get_variant_code(wildcards)}"


def get_all_metrics(wildcards):
    return run_files("metrics.json")  # see rules/seed_plan.smk


def configfiles_applied():
    """The config files of this run, in the order Snakemake applied them, relative if inside."""
    given = [Path(p).absolute() for p in workflow.overwrite_configfiles]
    own = [Path(p).absolute() for p in workflow.configfiles if Path(p).absolute() not in given]
    here = Path.cwd()
    return [str(p.relative_to(here)) if p.is_relative_to(here) else str(p) for p in own + given]


def config_overrides():
    """The command line's ``--config`` entries, as the user typed them."""
    entries = workflow.config_settings.config_args or []
    return shlex.split(entries) if isinstance(entries, str) else list(entries)


def get_report_args(wildcards=None):
    """What the report shows beyond the tables: baseline, targets, config files and overrides.

    A rule parameter, so changing the baseline or a target re-runs only the report.
    """
    settings = config.get("report", {})
    args = ["--baseline", settings.get("baseline", "numpy"), "--planned-out", planned_out.PATH]
    for variant, target in sorted(settings.get("time_to_accuracy", {}).items()):
        args += ["--time-to-accuracy", f"{variant}={target}"]
    for path in configfiles_applied():
        args += ["--configfile", path]
    for entry in config_overrides():
        args += ["--override", entry]
    for look in get_last_looks(wildcards) if wildcards is not None else ():
        args += ["--seed-look", look]  # how a seed plan stopped (rules/seed_plan.smk)
    return shlex.join(args)


def write_partial_report():
    """After a failed job: a report of the runs that finished, listing the others.

    With ``--keep-going`` this runs once every job that could run has run, so one failed run
    costs nothing else; each failed run is listed with the error line from its log. It goes to
    ``results/partial/``, never to a rule's outputs: Snakemake would take a report there as up
    to date and not run the failed jobs again on the next run. Where no run finished there is
    nothing to report, and nothing is added to the failed jobs' own errors.
    """
    finished = run_files("metrics.json", pending=False)  # see rules/seed_plan.smk
    if not any(os.path.exists(path) for path in finished):
        return  # no run finished: the failed jobs' own errors say it all, nothing to add
    metrics = " ".join(shlex.quote(path) for path in finished)
    # shell() formats its command: braces of an override (seeds={first: 3, ...}) are doubled
    settings = get_report_args().replace("{", "{{").replace("}", "}}")
    shell(
        f"{PYTHON} -m mnistbench -q aggregate --allow-missing {metrics} --out {PARTIAL}"
        f" && {PYTHON} -m mnistbench -q report --tables {PARTIAL} --out {PARTIAL}/report.html"
        f" --csv-dir {PARTIAL} {settings}"
        f" && echo 'mnistbench: the runs that finished, and why the others did not:"
        f" {PARTIAL}/report.html' >&2 || true"
    )


def check_bundles():
    """Before a SLURM run submits anything: make CPU bundles no wider than the partition's
    nodes, or refuse in one line what no node can hold (see mnistbench.plan.bundles)."""
    plugin = workflow.executor_plugin
    if plugin is None or plugin.name != "slurm":
        return
    cpu_jobs = [job for job in workflow.dag.needrun_jobs() if job.group == "cpu_runs"]
    if not cpu_jobs:
        return
    found = bundles.node_cpus(cpu_jobs[0].resources.get("slurm_partition"))
    if found is None:
        return  # sinfo cannot say: the bundles are as the profile and --cores make them
    trains = sum(job.rule.name == "train_model" for job in cpu_jobs)
    runs = max(1, min(trains, workflow.group_settings.group_components.get("cpu_runs", 1)))
    threads = max(job.threads for job in cpu_jobs)
    cores = workflow.resource_settings.cores
    try:
        wide = bundles.width(runs, threads, cores, *found)
    except MnistbenchError as error:
        print(f"mnistbench: {error}", file=sys.stderr)
        sys.exit(1)
    if cores is None:  # Snakemake lays a bundle's runs side by side up to its cores
        workflow.global_resources["_cores"] = wide
        print(f"mnistbench: CPU bundles up to {wide} CPUs wide (a node of partition {found[1]!r})")


onstart:
    check_bundles()


# Snakemake reads each input function's signature for every job that calls it (100,000 times in
# a plan of 5,000 runs): read it once here, with Snakemake's own override.
for _function in [f for name, f in list(globals().items()) if name.startswith("get_")]:
    if inspect.isfunction(_function):
        overwrite_function_params(_function, inspect.signature(_function).parameters)
