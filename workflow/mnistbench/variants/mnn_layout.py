"""Where each of ``mnn``'s neurons sits in its state vector, for any image size and classes.

The variant (:mod:`mnistbench.variants.mnn`) sizes its matrix from the data; its backends read
the layout of the matrix they are given from its size, the width of the inputs and ``hidden`` or
the classes (:func:`layout_of`), and pad it for their vector units
(:mod:`mnistbench.plugin.layouts`).
"""

from __future__ import annotations

from dataclasses import dataclass

from mnistbench.errors import MnistbenchError


@dataclass(frozen=True)
class Layout:
    """Where each neuron sits in the state vector ``s`` (B, neurons): the pixel neurons first,
    clamped to the image; then the bias neuron, clamped to 1; then the free neurons, the hidden
    ones and last the outputs, whose values after the last tick are the logits. On MNIST with
    the source notebook's 100 hidden: pixels 0..783, bias 784, free 785..894, outputs 885..894."""

    pixels: int
    hidden: int
    classes: int

    @property
    def bias(self) -> int:
        """The bias neuron: right after the pixels (the source notebook's ``inputs - 1``)."""
        return self.pixels

    @property
    def free(self) -> int:
        """The first free neuron; the clamped ones are ``0..free - 1``."""
        return self.pixels + 1

    @property
    def neurons(self) -> int:
        return self.free + self.hidden + self.classes


def layout_of(neurons: int, pixels: int, hidden: int | None = None, classes: int | None = None):
    """The layout of a (neurons, neurons) matrix ``A`` that takes inputs ``pixels`` wide, from
    its ``hidden`` neurons or its ``classes``: after the pixels and the bias neuron, the rest
    are the other. Given both (a run's hyperparameters and TrainSpec), the matrix must fit both."""
    rest = neurons - pixels - 1
    hidden = rest - classes if hidden is None else int(hidden)
    found = Layout(pixels, hidden, rest - hidden)
    if hidden < 0 or found.classes < 1 or classes not in (None, found.classes):
        wanted = "" if classes is None else f" + {classes} outputs"
        raise MnistbenchError(
            f"variant 'mnn': a {neurons} x {neurons} matrix A does not fit {pixels} pixels + 1 "
            f"bias + {hidden} hidden neurons{wanted}: it was made for another image size, number "
            "of classes or 'hidden'"
        )
    return found
