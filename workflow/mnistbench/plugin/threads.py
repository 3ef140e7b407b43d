"""The job's thread count, set once before any framework starts, and read by every backend.

    python -m mnistbench train --threads 1 ...     # the workflow passes its rule's {threads}

A benchmark that reports "threads 1" must use one core. Each numeric library has its own
control, read at a different time: BLAS and OpenMP runtimes read environment variables when they
load, PyTorch sizes its pools on first use, XLA sizes its pools from the CPUs it may run on.
:func:`limit` sets what the core can set (the environment of every library still to load, and,
through ``threadpoolctl``, the pools of the BLAS and OpenMP libraries already loaded); a backend
reads :func:`configured` before its framework starts and applies the framework's own controls
(the PyTorch and JAX plugins do). The count travels in ``MNISTBENCH_THREADS``, so a subprocess
of the job inherits it.
"""

from __future__ import annotations

import logging
import os

from mnistbench.errors import MnistbenchError

log = logging.getLogger(__name__)
ENV_VAR = "MNISTBENCH_THREADS"
# What each library reads when it loads: OpenMP runtimes (and PyTorch's intra-op pool),
# OpenBLAS, MKL, BLIS, Apple's Accelerate, numexpr and numba's parallel layer.
LIBRARY_VARIABLES = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "BLIS_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
    "NUMEXPR_NUM_THREADS",
)


def from_environment(environ: os._Environ | dict | None = None) -> int | None:
    """The count a job inherits: ``MNISTBENCH_THREADS``, else ``OMP_NUM_THREADS`` (the setting
    most users know), else None (each library chooses, usually one thread per core)."""
    environ = os.environ if environ is None else environ
    for name in (ENV_VAR, "OMP_NUM_THREADS"):
        text = environ.get(name, "").strip()
        if text:
            return _count(text, name)
    return None


def _count(text: str, source: str) -> int:
    try:
        n = int(text)
    except ValueError:
        n = 0
    if n < 1:
        raise MnistbenchError(f"{source}: a thread count is a whole number >= 1, not {text!r}")
    return n


def limit(threads: int | None) -> int | None:
    """Make ``threads`` the job's thread count, before any framework starts; return it.

    None keeps the count the environment gives (:func:`from_environment`), if any. Sets
    ``MNISTBENCH_THREADS`` and every library's variable (so libraries that load later start with
    that many threads), limits the BLAS and OpenMP pools already loaded, and logs what it set.
    """
    n = from_environment() if threads is None else _count(str(threads), "--threads")
    if n is None:
        log.info("threads: not set; each library chooses (%s cores here)", os.cpu_count())
        return None
    os.environ[ENV_VAR] = str(n)
    for name in LIBRARY_VARIABLES:
        os.environ[name] = str(n)
    # numba refuses a count above the machine's cores; its kernels here are serial anyway.
    os.environ["NUMBA_NUM_THREADS"] = str(min(n, os.cpu_count() or n))
    limited = _limit_loaded_pools(n)
    log.info(
        "threads: %d (%s and %s set%s)",
        n,
        ENV_VAR,
        ", ".join(LIBRARY_VARIABLES),
        f"; limited already loaded {', '.join(limited)}" if limited else "",
    )
    return n


def _limit_loaded_pools(n: int) -> list[str]:
    """Limit the thread pools of the BLAS and OpenMP libraries loaded before :func:`limit` ran
    (a Python caller may have imported NumPy first); return their names."""
    from threadpoolctl import ThreadpoolController

    controller = ThreadpoolController()
    controller.limit(limits=n)  # not a context: the limit holds for the rest of the job
    return sorted({f"{pool['internal_api']} ({pool['prefix']})" for pool in controller.info()})


def configured() -> int | None:
    """The job's thread count, for a backend to apply before its framework starts: as
    :func:`limit` set it, or as the environment gives it; None when there is none."""
    return from_environment()


def describe() -> str:
    """The job's thread count for provenance: ``"1"``, or what happens when none was set."""
    n = configured()
    return str(n) if n is not None else f"not set (libraries choose; {os.cpu_count()} cores)"
