"""A job's thread count holds for every library it loads, JAX's compiler included.

The one-thread jobs are judged by their own resource usage (``os.wait4``): CPU time over wall
time at most ``1 + TOLERANCE``. Before each framework was given its own controls, a one-thread
JAX job ran at 1.1 to 1.4 (XLA ignores ``OMP_NUM_THREADS``); with them, all three backends run
at about 0.99 on an idle machine. A busy machine only lowers the ratio, so the test does not
race the clock.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import time

import pytest

from mnistbench.errors import MnistbenchError
from mnistbench.plugin import threads
from tests.cli import error_line, run_cli

TOLERANCE = 0.1
THREAD_VARIABLES = (threads.ENV_VAR, *threads.LIBRARY_VARIABLES, "NUMBA_NUM_THREADS")
FRAMEWORK = {"numpy": "numpy", "torch": "torch", "jax": "jax"}


def environment_without_thread_settings() -> dict[str, str]:
    """This process's environment less every thread variable and any mirror, so that only
    ``--threads`` sets the count."""
    drop = {*THREAD_VARIABLES, "MNISTBENCH_MIRROR", "PJRT_NPROC", "XLA_FLAGS"}
    return {k: v for k, v in os.environ.items() if k not in drop}


def test_the_count_comes_from_mnistbench_threads_then_omp_num_threads():
    assert threads.from_environment({"MNISTBENCH_THREADS": "3", "OMP_NUM_THREADS": "2"}) == 3
    assert threads.from_environment({"OMP_NUM_THREADS": "2"}) == 2
    assert threads.from_environment({}) is None


@pytest.mark.parametrize("text", ["0", "-1", "two", "1.5"])
def test_a_count_that_is_not_a_positive_whole_number_is_refused(text):
    with pytest.raises(MnistbenchError, match=f"MNISTBENCH_THREADS: .* not '{text}'"):
        threads.from_environment({"MNISTBENCH_THREADS": text})


def test_limit_sets_every_librarys_variable_and_limits_the_blas_already_loaded():
    """In a fresh interpreter that loaded NumPy (and its OpenBLAS) before the limit."""
    script = (
        "import json, os, sys, numpy, threadpoolctl\n"
        "from mnistbench.plugin import threads\n"
        "threads.limit(1)\n"
        "pools = [p['num_threads'] for p in threadpoolctl.threadpool_info()]\n"
        "print(json.dumps({'env': {k: os.environ.get(k) for k in sys.argv[1:]}, 'pools': pools}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, *THREAD_VARIABLES],
        env=environment_without_thread_settings(),
        capture_output=True,
        text=True,
        check=True,
    )
    found = json.loads(done.stdout)
    assert set(found["env"].values()) == {"1"}
    assert found["pools"] and set(found["pools"]) == {1}


def test_a_bad_thread_count_on_the_command_line_is_one_error_line(sample_dir, tmp_path):
    result = run_cli(
        "train", "--data", str(sample_dir), "--dataset", "s", "--variant", "mlp",
        "--backend", "numpy", "--seed", "0", "--out", str(tmp_path / "run"), "--threads", "0",
    )  # fmt: skip
    assert error_line(result, "train").endswith(
        "--threads: a thread count is a whole number >= 1, not '0'"
    )
    assert not (tmp_path / "run").exists()


def run_job(args: list[str], log) -> tuple[int, float, float]:
    """Run ``python -m mnistbench ARGS`` as the workflow does; return its exit status, CPU
    seconds (its own and its children's, user and system) and wall seconds."""
    start = time.perf_counter()
    job = subprocess.Popen(
        [sys.executable, "-m", "mnistbench", "--log", str(log), *args],
        env=environment_without_thread_settings(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    _, status, usage = os.wait4(job.pid, 0)
    wall = time.perf_counter() - start
    return os.waitstatus_to_exitcode(status), usage.ru_utime + usage.ru_stime, wall


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["numpy", "torch", "jax"])
def test_a_one_thread_train_job_uses_one_core(backend, sample_dir, tmp_path):
    if importlib.util.find_spec(FRAMEWORK[backend]) is None:
        pytest.skip(f"{FRAMEWORK[backend]} is not installed, so the {backend} backend cannot run")
    out, log = tmp_path / "run", tmp_path / "train.log"
    args = ["train", "--data", str(sample_dir), "--dataset", "mnist-sample", "--variant", "mlp"]
    args += ["--backend", backend, "--seed", "0", "--out", str(out), "--device", "cpu"]
    status, cpu, wall = run_job([*args, "--threads", "1"], log)
    assert status == 0, log.read_text()[-2000:]
    assert cpu / wall <= 1 + TOLERANCE, f"{cpu:.2f} s of CPU in {wall:.2f} s"
    assert "threads: 1 " in log.read_text()
    info = json.loads((out / "train.json").read_text())
    assert info["machine"]["threads"] == "1"
    assert info["kernels"] and {k["threads"] for k in info["kernels"]} == {1}
