"""The quick config on a real one-node SLURM cluster through ``--profile profiles/slurm``.

Snakemake submits the runs as SLURM jobs with ``snakemake-executor-plugin-slurm``: each run's train
and evaluate jobs together, CPU runs bundled several to a SLURM job and each GPU run in a job of
its own, as the profile says. The runs' outputs name their SLURM jobs, SLURM's own accounting
lists those jobs as completed, and the summary equals a local run's. A batch-size sweep of four
points is one SLURM job. Needs root
and Debian's slurm-wlm and munge (installed with apt-get when missing); skipped, saying which is
missing, elsewhere.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from tests.conftest import SAMPLE_DATASET
from tests.workflow import slurm
from tests.workflow.runner import REPO, copy_workflow, run_snakemake

pytestmark = pytest.mark.slow
# The quick config cut to one variant on both built-in backends, each its one way: two runs.
ONE_VARIANT = [
    "--config",
    "variants=[mlp]",
    "backends=[numpy,torch]",
    "implementations={torch: tuned}",
]
# Test-only settings: no account on this cluster, the squeue status command (MinJobAge is long
# enough), status checks every second instead of every 40 s, and the SLURM logs kept.
SLURM_ARGS = [
    "--profile", "profiles/slurm", "--slurm-no-account", "--slurm-status-command", "squeue",
    "--slurm-init-seconds-before-status-checks", "1", "--slurm-keep-successful-logs",
    "--latency-wait", "5",
]  # fmt: skip
TIMES = ["train_seconds", "samples_per_second", "predict_seconds", "predict_samples_per_second"]
TIMES += ["peak_rss_mb", "train_memory_mb", "job_wall_seconds", "setup_seconds"]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    reason = slurm.missing_reason()
    if reason:
        print(f"SLURM test skipped: {reason}")
        pytest.skip(reason)
    started = slurm.start(tmp_path_factory.mktemp("slurm"))
    yield started
    started.stop()


@pytest.fixture(scope="module")
def on_slurm(cluster, tmp_path_factory):
    work = copy_workflow(tmp_path_factory.mktemp("on_slurm"))
    shutil.copytree(REPO / "profiles", work / "profiles")
    # docs/cluster.md's command as it stands: no --cores, the bundles as wide as a node
    result = run_snakemake(
        work, *SLURM_ARGS, *ONE_VARIANT, env=cluster.env, timeout=900, cores=None
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    assert "mnistbench: CPU bundles up to 2 CPUs wide (a node of partition 'debug')" in output
    return work


@pytest.fixture(scope="module")
def local(tmp_path_factory):
    work = copy_workflow(tmp_path_factory.mktemp("local"))
    result = run_snakemake(work, *ONE_VARIANT)
    assert result.returncode == 0, result.stderr[-3000:]
    return work


def run_dirs(work: Path) -> list[Path]:
    return sorted((work / "results" / SAMPLE_DATASET).glob("*/*/*/seed*"))


def slurm_job(run: Path) -> str | None:
    return json.loads((run / "train.json").read_text())["machine"].get("slurm_job_id")


def test_every_run_was_trained_in_a_slurm_job_that_completed(on_slurm, cluster):
    jobs = {row["JobID"]: row for row in cluster.sacct()}
    for line in jobs.values():
        print("sacct:", " | ".join(line.values()))
    runs = run_dirs(on_slurm)
    assert len(runs) == 2
    trained_in = [slurm_job(run) for run in runs]
    assert all(trained_in), "a run was trained outside SLURM"
    assert len(set(trained_in)) == 1, "the two CPU runs are bundled into one SLURM job"
    for job in trained_in:
        assert jobs[job]["State"] == "COMPLETED" and jobs[job]["ExitCode"] == "0:0"


def test_each_runs_evaluate_job_ran_in_its_train_jobs_allocation(on_slurm):
    for run in run_dirs(on_slurm):
        log = next((on_slurm / ".snakemake" / "slurm_logs").rglob(f"{slurm_job(run)}.log"))
        text = log.read_text()
        assert "rule train_model" in text and "rule evaluate_model" in text


def test_light_rules_ran_on_the_submitting_node(on_slurm):
    logs = "".join(p.read_text() for p in (on_slurm / ".snakemake" / "slurm_logs").rglob("*.log"))
    for rule in ("fetch_dataset_file", "aggregate_results", "write_report"):
        assert f"rule {rule}" not in logs, f"{rule} was submitted to SLURM"


def test_slurm_got_the_bundles_time_limit_cores_and_memory_and_no_gpu(on_slurm, cluster):
    job = cluster.job(slurm_job(run_dirs(on_slurm)[0]))
    assert job["TimeLimit"] == "02:15:00"  # train's 120 minutes, then evaluate's 15
    assert job["NumCPUs"] == "2"  # the two runs side by side, one thread each
    assert job["MinMemoryNode"] == "4000M"  # two trains' mem_mb; evaluate's 1000 fits in it
    assert "TresPerJob" not in job, "a CPU run asked for a GPU"


def jobs_by_backend(work: Path) -> dict[str, str]:
    """SLURM job id of each run's job, from the executor's per-job logs."""
    found = {}
    for log in (work / ".snakemake" / "slurm_logs").rglob("*.log"):
        for backend in ("numpy", "torch"):
            if f"backend={backend}," in log.read_text():
                found[backend] = log.stem
    return found


@pytest.fixture(scope="module")
def cuda_for_torch(cluster, tmp_path_factory):
    """The same runs with torch on CUDA and a GPU model: torch's job asks SLURM for that GPU.

    The node's GPU is a stand-in (see tests/workflow/slurm.py), so without a real one the torch
    job fails inside its allocation; what it asked for is the point here.
    """
    work = copy_workflow(tmp_path_factory.mktemp("cuda_for_torch"))
    shutil.copytree(REPO / "profiles", work / "profiles")
    cuda = [*ONE_VARIANT, "devices={torch: cuda}", f"gpu_model={slurm.GPU_MODEL}"]
    args = [*SLURM_ARGS, "--retries", "0", "--keep-going", *cuda]
    result = run_snakemake(work, *args, env=cluster.env, timeout=900)
    return work, result


def test_a_run_on_cuda_asks_slurm_for_one_gpu_of_the_configured_model(cuda_for_torch, cluster):
    work, result = cuda_for_torch
    jobs = jobs_by_backend(work)
    assert set(jobs) == {"numpy", "torch"}, (result.stdout + result.stderr)[-3000:]
    assert cluster.job(jobs["torch"])["TresPerJob"] == f"gres:gpu:{slurm.GPU_MODEL}:1"
    assert cluster.job(jobs["torch"])["MinMemoryNode"] == "4000M"  # a GPU job's host memory


def test_a_cpu_run_beside_it_asks_for_no_gpu(cuda_for_torch, cluster):
    work, _ = cuda_for_torch
    assert "TresPerJob" not in cluster.job(jobs_by_backend(work)["numpy"])


@pytest.fixture(scope="module")
def sweep_on_slurm(cluster, tmp_path_factory):
    """mlp over four batch sizes on NumPy: four short runs."""
    work = copy_workflow(tmp_path_factory.mktemp("sweep_on_slurm"))
    shutil.copytree(REPO / "profiles", work / "profiles")
    sweep = ["variants=[mlp]", "backends=[numpy]", "sweeps={mlp: {batch_size: [8, 16, 32, 64]}}"]
    result = run_snakemake(
        work, *SLURM_ARGS, "--config", *sweep, env=cluster.env, timeout=900, cores=None
    )
    assert result.returncode == 0, (result.stdout + result.stderr)[-4000:]
    return work


def test_a_sweep_of_short_cpu_runs_is_one_slurm_job(sweep_on_slurm, cluster):
    runs = run_dirs(sweep_on_slurm)
    assert [run.parent.name for run in runs] == [f"batch_size={b}" for b in (16, 32, 64, 8)]
    [job] = {slurm_job(run) for run in runs}
    assert job, "the runs were trained outside SLURM"
    states = {row["JobID"]: row["State"] for row in cluster.sacct()}
    assert states[job] == "COMPLETED"
    # a 2-CPU node: four one-thread runs two at a time: two layers of trains (120 minutes
    # each), then two of evaluates (15 each), the time limit their sum
    assert cluster.job(job)["NumCPUs"] == "2"
    assert cluster.job(job)["TimeLimit"] == "04:30:00"


def test_the_summary_equals_a_local_runs(on_slurm, local):
    tables = [
        pd.read_csv(work / "results" / "summary.csv").drop(columns=TIMES)
        for work in (local, on_slurm)
    ]
    pd.testing.assert_frame_equal(tables[1], tables[0], check_exact=True)
    assert (on_slurm / "results" / "report.html").exists()


def test_a_bundle_wider_than_the_nodes_is_refused_before_anything_is_submitted(cluster, tmp_path):
    work = copy_workflow(tmp_path)
    shutil.copytree(REPO / "profiles", work / "profiles")
    sweep = ["variants=[mlp]", "backends=[numpy]", "sweeps={mlp: {batch_size: [8, 16, 32, 64]}}"]
    result = run_snakemake(
        work, *SLURM_ARGS, "--config", *sweep, env=cluster.env, timeout=600, cores="8"
    )
    assert result.returncode != 0
    output = (result.stdout + result.stderr).splitlines()
    assert [line for line in output if line.startswith("mnistbench: ")] == [
        "mnistbench: --cores 8 makes a CPU bundle 4 CPUs wide, more than the 2 a node of"
        " partition 'debug' has: give --cores 2, or leave it out (a bundle is then as wide as a"
        " node)"
    ]
    assert not (work / ".snakemake" / "slurm_logs").exists(), "a job was submitted"
