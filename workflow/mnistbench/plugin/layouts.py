"""mnn's training matrix padded for the vector units: a layout its backends share.

Matrix products 110 columns wide (the source notebook's 100 hidden + 10 outputs) run about 10%
slower than 112 wide on AVX-512 CPUs, so the NumPy, PyTorch and JAX backends train the free
columns of ``A`` padded to a multiple of :data:`LANES`. The layout is a backend concern, not part
of the variant: the saved weights are always the variant's own ``A``. Where each kind of neuron
sits comes from the variant's :class:`~mnistbench.variants.mnn_layout.Layout` of the run's data.
"""

from __future__ import annotations

import numpy as np

from mnistbench.variants.mnn_layout import Layout

LANES = 16  # float32s per AVX-512 register


def padded_free_columns(A: np.ndarray, layout: Layout) -> np.ndarray:
    """``A[:, free:]`` as a float32 training matrix whose free neurons are padded with zeros to
    a multiple of ``LANES``: (897, 112) for MNIST's 895 neurons with 100 hidden.
    :func:`trained_matrix` reads it back.

    Matrix products 110 columns wide (the default 100 hidden + 10 outputs) run about 10% slower
    than 112 wide on AVX-512 CPUs. The padding neurons sit after the hidden ones, so the outputs
    stay the last columns; their rows and columns are zero, so their pre-activation is 0, their
    ReLU passes no gradient, their gradient is exactly zero and Adam keeps them at zero: the
    arithmetic of the real neurons is unchanged (up to the order of float32 sums).
    """
    shape, rows, columns = padded_layout(layout)
    W = np.zeros(shape, np.float32)
    W[np.ix_(rows, columns)] = A[:, layout.free :]
    return W


def trained_matrix(A: np.ndarray, W: np.ndarray, layout: Layout) -> np.ndarray:
    """A float32 copy of ``A`` with ``A[:, free:]`` read back from the padded training matrix
    ``W`` (:func:`padded_free_columns`)."""
    _, rows, columns = padded_layout(layout)
    trained = np.array(A, dtype=np.float32)
    trained[:, layout.free :] = W[np.ix_(rows, columns)]
    return trained


def padded_layout(layout: Layout) -> tuple[tuple[int, int], np.ndarray, np.ndarray]:
    """The padded training matrix's shape, and the rows and columns ``A[:, free:]`` takes in it
    (for a backend that lays it out on its own device; :func:`padded_free_columns` does it in
    NumPy)."""
    free, n_free = layout.free, layout.hidden + layout.classes
    padded = -(-n_free // LANES) * LANES
    columns = np.arange(n_free)
    columns[-layout.classes :] += padded - n_free
    rows = np.concatenate([np.arange(free), free + columns])
    return (free + padded, padded), rows, columns
