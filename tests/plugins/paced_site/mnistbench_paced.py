"""Backend plugins for the seed-plan tests: NumPy's arithmetic, each epoch padded to a set time.

Every timed epoch of ``paced`` and ``paced_twin`` lasts about 1.5 s, of ``paced_slow`` about 4.5 s:
the epoch trains (well under that on a small training subset), then waits out the rest. Each run
is up to 3% faster or slower than that, by a draw fixed by its backend and initial weights (so by
its seed): the run-to-run spread of a real machine, which an idle one would otherwise not show,
the same on every run of the tests. One pair differs three-fold in speed and the other not at
all, whatever else the machine is doing, and every one predicts exactly as NumPy does. Put this
folder on ``PYTHONPATH`` to install them, as ``pip install`` would.
"""

import time
import zlib

import numpy as np

from mnistbench import hookimpl
from mnistbench_numpy import NumpyBackend

MNISTBENCH_HOOK_VERSION = 2


class _Paced:
    """A trainer whose every epoch lasts ``pause`` seconds (or its training, if longer)."""

    def __init__(self, trainer, pause):
        self._trainer, self._pause = trainer, pause

    def train_epoch(self, epoch):
        start = time.perf_counter()
        result = self._trainer.train_epoch(epoch)
        time.sleep(max(0.0, self._pause - (time.perf_counter() - start)))
        return result

    def __getattr__(self, name):
        return getattr(self._trainer, name)


class PacedBackend(NumpyBackend):
    name = "paced"
    variants = frozenset({"mlp", "dropout_mlp"})
    pause = 1.5

    def setup(self, spec):
        weights = b"".join(w.tobytes() for w in spec.initial_weights.values())
        draw = np.random.default_rng([zlib.crc32(self.name.encode()), zlib.crc32(weights)])
        return _Paced(super().setup(spec), self.pause * (1 + draw.uniform(-0.03, 0.03)))


class PacedTwinBackend(PacedBackend):
    name = "paced_twin"
    variants = frozenset({"dropout_mlp"})


class PacedSlowBackend(PacedBackend):
    name = "paced_slow"
    variants = frozenset({"mlp"})
    pause = 4.5


@hookimpl
def mnistbench_register_backends():
    return [PacedBackend(), PacedTwinBackend(), PacedSlowBackend()]
