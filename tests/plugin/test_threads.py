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
import logging
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


@pytest.fixture
def clean_thread_environment(monkeypatch):
    """This process without thread variables; the BLAS pools given this machine's cores back
    after the test (what they start with)."""
    saved = dict(os.environ)
    for name in THREAD_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    yield
    os.environ.clear()
    os.environ.update(saved)  # limit() sets variables monkeypatch did not record
    threads._limit_loaded_pools(os.cpu_count() or 1)


def test_limit_sets_each_variable_to_the_count_and_numba_to_at_most_the_cores(
    clean_thread_environment,
):
    cores = os.cpu_count() or 1
    assert threads.limit(cores + 3) == cores + 3
    for name in (threads.ENV_VAR, *threads.LIBRARY_VARIABLES):
        assert os.environ[name] == str(cores + 3), name
    assert os.environ["NUMBA_NUM_THREADS"] == str(cores)  # numba refuses more than the cores
    assert threads.configured() == cores + 3
    assert threads.describe() == str(cores + 3)
    assert threads.limit(1) == 1 and os.environ["NUMBA_NUM_THREADS"] == "1"


def test_limit_of_none_keeps_the_count_the_environment_gives(clean_thread_environment, monkeypatch):
    assert threads.limit(None) is None and threads.ENV_VAR not in os.environ
    monkeypatch.setenv("OMP_NUM_THREADS", "2")
    assert threads.limit(None) == 2
    assert os.environ[threads.ENV_VAR] == "2" and os.environ["OPENBLAS_NUM_THREADS"] == "2"


def test_without_a_count_the_record_says_the_libraries_choose(clean_thread_environment):
    assert threads.configured() is None
    assert threads.describe() == f"not set (libraries choose; {os.cpu_count()} cores)"


def test_the_count_read_is_exact_and_whitespace_is_ignored():
    assert threads.from_environment({"MNISTBENCH_THREADS": " 1 "}) == 1
    assert threads.from_environment({"MNISTBENCH_THREADS": "", "OMP_NUM_THREADS": "5"}) == 5
    with pytest.raises(MnistbenchError) as error:
        threads.from_environment({"OMP_NUM_THREADS": "0"})
    assert str(error.value) == "OMP_NUM_THREADS: a thread count is a whole number >= 1, not '0'"


def test_limit_logs_what_it_set_and_the_pools_it_limited(clean_thread_environment, caplog):
    """With NumPy's OpenBLAS and PyTorch's OpenMP loaded: two pools, each limited and named."""
    pytest.importorskip("torch", reason="PyTorch's OpenMP pool is the second library here")
    from threadpoolctl import threadpool_info

    n = 1 if (os.cpu_count() or 1) > 1 else 2  # not the count the pools start with
    with caplog.at_level(logging.INFO, logger="mnistbench.plugin.threads"):
        threads.limit(n)
    pools = threadpool_info()
    assert pools and {pool["num_threads"] for pool in pools} == {n}
    names = sorted({f"{pool['internal_api']} ({pool['prefix']})" for pool in pools})
    assert len(names) >= 2
    assert caplog.messages == [
        f"threads: {n} ({threads.ENV_VAR} and {', '.join(threads.LIBRARY_VARIABLES)} set;"
        f" limited already loaded {', '.join(names)})"
    ]


def test_limit_without_a_count_logs_that_the_libraries_choose(clean_thread_environment, caplog):
    with caplog.at_level(logging.INFO, logger="mnistbench.plugin.threads"):
        threads.limit(None)
    cores = os.cpu_count()
    assert caplog.messages == [f"threads: not set; each library chooses ({cores} cores here)"]


def test_a_count_given_to_limit_is_checked_and_named_as_the_option():
    with pytest.raises(MnistbenchError) as error:
        threads.limit(0)
    assert str(error.value) == "--threads: a thread count is a whole number >= 1, not '0'"
