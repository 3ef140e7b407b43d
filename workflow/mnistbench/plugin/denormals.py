"""Denormal floats flushed to zero while a CPU backend trains, as XLA does on the CPU.

Late in training, a confident model's softmax probabilities, and the gradients and Adam moments
made from them, fall below float32's smallest normal number (1.2e-38). x86 CPUs compute on such
denormal numbers through a microcode assist, tens of times slower than on normal ones, so an epoch
slows down as the model learns: ``mnn`` on NumPy went from 0.7 s per epoch to 2.7 s by its 100th
epoch on a 2-core Intel Xeon, while JAX, which flushes them, stayed at 0.7 s. Values that small
change no loss or accuracy a float32 run can show.

:func:`flush_denormals` sets the SSE control register's FTZ (flush results to zero) and DAZ (read
denormal inputs as zero) bits for the calling thread, and restores the register afterwards. It
works on x86-64 Linux through glibc's ``fegetenv``/``fesetenv``; elsewhere it changes nothing.
Threads a BLAS library started earlier keep their own register: with one thread per job (the
default ``threads: 1``) all training arithmetic runs on the calling thread.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import platform
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache

FTZ, DAZ = 1 << 15, 1 << 6  # MXCSR bits: flush-to-zero, denormals-are-zero


class _FEnv(ctypes.Structure):
    """glibc's x86-64 ``fenv_t``: the x87 environment (28 bytes), then the SSE ``mxcsr``."""

    _fields_ = [("x87", ctypes.c_byte * 28), ("mxcsr", ctypes.c_uint32)]


@cache
def _libm() -> ctypes.CDLL | None:
    """glibc's libm on x86-64 Linux, where ``fenv_t`` has the layout above; else None."""
    if sys.platform != "linux" or platform.machine() not in ("x86_64", "AMD64"):
        return None
    name = ctypes.util.find_library("m")
    return ctypes.CDLL(name) if name else None


def supported() -> bool:
    """Whether :func:`flush_denormals` can change anything on this machine."""
    return _libm() is not None


def _get() -> _FEnv:
    env = _FEnv()
    if _libm().fegetenv(ctypes.byref(env)) != 0:
        raise OSError("fegetenv failed")
    return env


def _set(env: _FEnv) -> None:
    if _libm().fesetenv(ctypes.byref(env)) != 0:
        raise OSError("fesetenv failed")


@contextmanager
def flush_denormals() -> Iterator[None]:
    """Treat denormal float inputs and results as zero on this thread inside the block."""
    if not supported():
        yield
        return
    before = _get()
    flushed = _get()
    flushed.mxcsr |= FTZ | DAZ
    _set(flushed)
    try:
        yield
    finally:
        _set(before)
