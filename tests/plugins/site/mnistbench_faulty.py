"""A third-party backend plugin for the workflow tests: NumPy's arithmetic under another name.

It trains ``mlp`` exactly as the NumPy backend does and raises in its set-up for
``dropout_mlp``, as a backend with a bug would. Its folder is a ``site-packages`` in miniature
(this module beside its ``.dist-info``), so putting the folder on ``PYTHONPATH`` installs it
through the ``mnistbench.backends`` entry-point group, as ``pip install`` would.
"""

from mnistbench import hookimpl
from mnistbench_numpy import NumpyBackend

MNISTBENCH_HOOK_VERSION = 2


class FaultyBackend(NumpyBackend):
    name = "faulty"
    variants = frozenset({"mlp", "dropout_mlp"})

    def setup(self, spec):
        if spec.variant == "dropout_mlp":
            raise RuntimeError("dropout masks of the wrong shape")
        return super().setup(spec)


@hookimpl
def mnistbench_register_backends():
    return [FaultyBackend()]
