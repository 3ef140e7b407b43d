"""The short runs the conformance suites train, built by the core from one seed, and the data
they train on: seeded noise with a pattern per class, so a run learns something in a few steps
and needs no download. A backend's own tests use them too (:func:`small_spec`)."""

from __future__ import annotations

import dataclasses

import numpy as np

from mnistbench.data.shapes import Shape
from mnistbench.plugin.backend import TrainSpec, train_all
from mnistbench.training.train import build_spec
from mnistbench.variants import VARIANTS

SAMPLES = 96
MIN_STEPS = 20
OTHER_SHAPE = Shape(32, 32, 26)  # EMNIST letters' 26 classes on 32 x 32 crops


def step_losses(backend, spec) -> np.ndarray:
    """Every training step's loss when ``backend`` trains ``spec``, in order."""
    return np.concatenate([epoch.losses for epoch in train_all(backend, spec)])


def small_spec(
    variant: str, device: str = "cpu", samples: int = SAMPLES, overrides: dict | None = None
) -> TrainSpec:
    """A short run of ``variant`` (its ``small`` hyperparameters, then ``overrides``) on
    ``samples`` random images and labels from a fixed seed: for a backend's own tests of its
    loop."""
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (samples, 28, 28), dtype=np.uint8)
    labels = rng.integers(0, 10, samples, dtype=np.uint8)
    the_variant = VARIANTS[variant]
    hp = the_variant.hyperparameters({**the_variant.small, **(overrides or {})})
    return build_spec(the_variant, hp, images, labels, 0, device)


def first_step(spec: TrainSpec) -> TrainSpec:
    """``spec`` cut to its first batch: one epoch of one step, with that step's extras."""
    rows = slice(0, spec.batch_size)
    extras = {name: [np.asarray(per_epoch[0])[rows]] for name, per_epoch in spec.extras.items()}
    return dataclasses.replace(spec, epochs=[spec.epochs[0][rows]], extras=extras)


def class_pattern_data() -> tuple[np.ndarray, np.ndarray]:
    """(images (N, 28, 28) uint8, labels (N,) uint8): seeded noise with a bright band whose row
    depends on the class."""
    rng = np.random.default_rng(12345)
    labels = rng.integers(0, 10, SAMPLES).astype(np.uint8)
    images = rng.integers(0, 64, (SAMPLES, 28, 28))
    for i, label in enumerate(labels):
        images[i, 2 + 2 * label : 4 + 2 * label, 4:24] += 180
    return images.astype(np.uint8), labels


def other_shape_spec(variant, seed: int, device: str, implementation: str = "tuned") -> TrainSpec:
    """``variant``'s short run on :data:`OTHER_SHAPE` (26 classes of 32 x 32 images), seeded
    noise with a bright block at each class's row, for ``implementation``."""
    rng = np.random.default_rng(2626)
    labels = rng.integers(0, 26, SAMPLES).astype(np.uint8)
    images = rng.integers(0, 64, (SAMPLES, 32, 32))
    for i, label in enumerate(labels):
        images[i, label : label + 4, 4:28] += 180
    hp = variant.hyperparameters(variant.small)
    images = images.astype(np.uint8)
    return build_spec(variant, hp, images, labels, seed, device, OTHER_SHAPE, implementation)
