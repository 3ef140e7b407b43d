"""JAX started once per process with XLA's thread pools at the job's thread count.

XLA reads no ``OMP_NUM_THREADS``. Its CPU client sizes the pools that run and dispatch compiled
code from ``PJRT_NPROC`` (else from the CPUs the process may run on), its intra-op parallelism
follows ``--xla_cpu_multi_thread_eigen`` and ``intra_op_parallelism_threads`` in ``XLA_FLAGS``,
and its compiler sizes the pool that generates machine code in parallel from the CPUs the
calling thread may run on (``sched_getaffinity``), with no setting of its own. So :func:`start`
sets the first three, and makes those pools while this thread may run on only ``n`` CPUs; then
it gives every thread back all the CPUs the job had, so no thread stays pinned to a core that
another job may use. A one-thread job then uses one core, compilation included.

It also turns on JAX's persistent compilation cache (:func:`cache_compilations`): the three seeds
of a run compile the same programs, and a run's evaluate job the predict its train job compiled,
so every job after the first loads them from disk instead of compiling again.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from mnistbench.plugin import threads

log = logging.getLogger(__name__)
_started = False


def start() -> None:
    """Import JAX, with XLA's pools at the job's thread count if it set one; at most once."""
    global _started
    if _started:
        return
    _started = True
    n = threads.configured()
    if n is not None:
        os.environ["PJRT_NPROC"] = str(n)
        eigen = "true" if n > 1 else "false"
        flags = f"--xla_cpu_multi_thread_eigen={eigen} intra_op_parallelism_threads={n}"
        # After the user's own flags: the job's thread count wins.
        os.environ["XLA_FLAGS"] = f"{os.environ.get('XLA_FLAGS', '')} {flags}".strip()
    import jax
    from jax._src import xla_bridge

    cache_compilations(jax)
    if n is None or xla_bridge.backends_are_initialized():
        return  # no count, or XLA started earlier in this process: its pools are made
    with _pools_made_on(n):
        jax.devices()
        jax.jit(lambda x: x * 2 + 1)(jax.numpy.ones(2)).block_until_ready()  # the compiler's pool
    log.info("JAX: XLA's runtime and compiler pools made for %d thread%s", n, "s"[: n != 1])


@contextmanager
def _pools_made_on(n: int) -> Iterator[None]:
    """Inside the block this thread may run on ``n`` of its CPUs, so pools made there get ``n``
    threads; afterwards this thread and every thread made meanwhile may run on all of them."""
    if not hasattr(os, "sched_setaffinity"):
        yield  # macOS, Windows: no affinity to size pools by
        return
    allowed = os.sched_getaffinity(0)
    if n >= len(allowed):
        yield
        return
    tasks = Path("/proc/self/task")
    before = {entry.name for entry in tasks.iterdir()}
    os.sched_setaffinity(0, sorted(allowed)[:n])
    try:
        yield
    finally:
        made = {entry.name for entry in tasks.iterdir()} - before
        for tid in made | {str(threading.get_native_id())}:
            try:
                os.sched_setaffinity(int(tid), allowed)
            except OSError:
                pass  # the thread has ended


def cache_compilations(jax) -> None:
    """Keep compiled programs in JAX's persistent cache, every one however quick to compile:
    in ``JAX_COMPILATION_CACHE_DIR`` where the user names a folder, else in
    ``$XDG_CACHE_HOME/mnistbench/jax`` (``~/.cache/mnistbench/jax``). JAX keys each entry by
    the program, its compile options, the jaxlib version and the device, so a job gets back
    exactly the code it would compile; ``JAX_ENABLE_COMPILATION_CACHE=false`` turns it off."""
    if not os.environ.get("JAX_COMPILATION_CACHE_DIR"):
        home = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
        jax.config.update("jax_compilation_cache_dir", str(home / "mnistbench" / "jax"))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
