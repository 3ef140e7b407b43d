"""Conformance tests for a mnistbench backend: is it computing what the reference computes?

A plugin author subclasses :class:`BackendConformance` in their own test suite and runs pytest:

    # tests/test_conformance.py of mnistbench-jax
    from mnistbench.plugin.testing import BackendConformance

    class TestJaxConformance(BackendConformance):
        backend = "jax"

Every test runs once per installed variant the backend implements (a variant plugin's
included; ``variants = ("lenet",)`` narrows a suite to some) and per implementation the backend
offers for it (``tuned``, ``autograd``, ``compiled``: ``implementations = ("tuned",)`` narrows),
on a short run (the variant's ``small`` hyperparameters, at least 20 steps) built by the core
from one seed:

- the first step (its loss and how it moves every weight) matches the variant's arithmetic done
  in float64 by :mod:`mnistbench.variants.reference`, which shares no code with any backend;
- the step losses match the reference backend's (``numpy``) within ``rtol``;
- on 26 classes of 32 x 32 images, for a variant that sizes itself from the data, the step losses
  and the predictions match the float64 arithmetic;
- predictions from the same weights agree with the reference's;
- weights survive the round trip through the core's ``.npz`` files;
- training is deterministic under a seed;
- one result per epoch, with the initial weights' names, shapes and dtype;
- training leaves the spec's arrays (initial weights, training set) as they were;
- for a backend that declares ``resumable = True``: resumed after its first epoch from the
  weights and optimiser state saved in a checkpoint, it yields bit for bit what the
  uninterrupted run yields from there.

The reference backend itself is held to :mod:`mnistbench.variants.reference` in place of the
reference backend, so no test compares a backend with itself.

The data are synthetic by default, so the suite needs no download; override the
``conformance_data`` fixture to use real images.
"""

from __future__ import annotations

import dataclasses

import numpy as np

try:
    import pytest
except ImportError as error:  # a shipped module: say how to get what it needs
    raise ImportError(
        "mnistbench.plugin.testing is a pytest suite: pip install 'mnistbench[testing]'"
    ) from error

from mnistbench.data.shapes import Shape
from mnistbench.plugin.backend import TrainSpec, implementations, is_resumable, train_all
from mnistbench.plugin.registry import load_backends
from mnistbench.training import checkpoint, weights_file
from mnistbench.training.train import build_spec
from mnistbench.variants import VARIANTS, reference

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


class BackendConformance:
    """Subclass with ``backend = "<name>"``; override the attributes below where needed."""

    backend: str = ""
    reference: str = "numpy"
    device: str = "cpu"
    seed: int = 0
    rtol: float = 1e-4  # relative agreement of step losses with the reference
    atol: float = 1e-6
    variants: tuple[str, ...] | None = None  # the variants to check; None: every installed one
    implementations: tuple[str, ...] | None = None  # those to check; None: every one it offers

    def pytest_generate_tests(self, metafunc):
        """Each test that trains, once per implementation the backend offers."""
        if "implementation" in metafunc.fixturenames:
            found = load_backends().backends.get(self.backend)
            offered = implementations(found) if found is not None else ("tuned",)
            wanted = self.implementations
            chosen = [i for i in offered if wanted is None or i in wanted]
            metafunc.parametrize("implementation", chosen)

    @pytest.fixture(scope="class")
    @classmethod
    def registry(cls):
        return load_backends()

    def reference_losses(self, registry, spec) -> np.ndarray:
        """The step losses to match: the reference backend's, or for the reference backend
        itself, those of the float64 arithmetic."""
        if self.backend == self.reference:
            return np.concatenate(reference.train(spec)[0])
        return step_losses(registry.get(self.reference), spec)

    def reference_scores(self, registry, spec, weights, x) -> np.ndarray:
        """The scores to match, from the reference backend or (for itself) the float64 one."""
        if self.backend == self.reference:
            return reference.predict(spec.variant, spec.hyperparameters, weights, x)
        theirs = registry.get(self.reference)
        return theirs.predict(spec.variant, spec.hyperparameters, weights, x, "cpu")

    @pytest.fixture(scope="class")
    @classmethod
    def conformance_data(cls) -> tuple[np.ndarray, np.ndarray]:
        """(images (N, 28, 28) uint8, labels (N,) uint8): seeded noise with a class pattern."""
        rng = np.random.default_rng(12345)
        labels = rng.integers(0, 10, SAMPLES).astype(np.uint8)
        images = rng.integers(0, 64, (SAMPLES, 28, 28))
        for i, label in enumerate(labels):  # a bright band whose row depends on the class
            images[i, 2 + 2 * label : 4 + 2 * label, 4:24] += 180
        return images.astype(np.uint8), labels

    @pytest.fixture(params=sorted(VARIANTS))
    def variant(self, request, registry):
        backend = registry.get(self.backend)
        if self.variants is not None and request.param not in self.variants:
            pytest.skip(f"this suite checks variants {', '.join(self.variants)} only")
        if request.param not in backend.variants:
            pytest.skip(f"backend {self.backend!r} does not implement variant {request.param!r}")
        return VARIANTS[request.param]

    @pytest.fixture
    def spec(self, registry, variant, implementation, conformance_data):
        offered = implementations(registry.get(self.backend), variant.name)
        if implementation not in offered:
            pytest.skip(f"backend {self.backend!r} has no {implementation} {variant.name!r}")
        images, labels = conformance_data
        hp = variant.hyperparameters(variant.small)
        return build_spec(variant, hp, images, labels, self.seed, self.device,
                          implementation=implementation)  # fmt: skip

    def test_backend_is_available(self, registry):
        assert registry.get(self.backend).name == self.backend

    def test_run_is_long_enough_to_compare(self, spec):
        assert sum(spec.steps_in_epoch(e) for e in range(len(spec.epochs))) >= MIN_STEPS

    def test_first_step_matches_the_float64_arithmetic(self, registry, spec):
        """The first loss, and each weight's move in the first update, within 1% of the largest
        move (float32 against float64: Adam's first step is about lr * sign(g), whose sign
        float32 rounding can flip where g is near 0)."""
        one = first_step(spec)
        [result] = train_all(registry.get(self.backend), one)
        [expected_losses], [expected] = reference.train(one)
        assert result.losses[0] == pytest.approx(expected_losses[0], rel=1e-5)
        for name, start in one.initial_weights.items():
            moved = np.asarray(result.weights[name], np.float64) - start
            expected_move = expected[name] - start
            assert np.abs(expected_move).max() > 0, f"{name} does not move in the first step"
            tolerance = 1e-2 * np.abs(expected_move).max()
            np.testing.assert_allclose(moved, expected_move, rtol=0, atol=tolerance, err_msg=name)

    def test_loss_trajectory_matches_the_reference(self, registry, spec):
        expected = self.reference_losses(registry, spec)
        actual = step_losses(registry.get(self.backend), spec)
        assert actual.shape == expected.shape
        np.testing.assert_allclose(actual, expected, rtol=self.rtol, atol=self.atol)

    @pytest.fixture
    def other_shape_spec(self, registry, variant, implementation):
        """The variant's short run on 26 classes of 32 x 32 images, seeded noise with a bright
        block at each class's row; skipped for a variant that cannot take that shape."""
        reason = variant.refuses(OTHER_SHAPE)
        if reason is not None:
            pytest.skip(f"variant {variant.name!r} does not take {OTHER_SHAPE}: {reason}")
        rng = np.random.default_rng(2626)
        labels = rng.integers(0, 26, SAMPLES).astype(np.uint8)
        images = rng.integers(0, 64, (SAMPLES, 32, 32))
        for i, label in enumerate(labels):
            images[i, label : label + 4, 4:28] += 180
        hp = variant.hyperparameters(variant.small)
        images = images.astype(np.uint8)
        if implementation not in implementations(registry.get(self.backend), variant.name):
            pytest.skip(f"backend {self.backend!r} has no {implementation} {variant.name!r}")
        return build_spec(variant, hp, images, labels, self.seed, self.device, OTHER_SHAPE,
                          implementation)  # fmt: skip

    def test_another_shape_trains_and_predicts_as_the_float64_arithmetic(
        self, registry, other_shape_spec
    ):
        spec, backend = other_shape_spec, registry.get(self.backend)
        results = train_all(backend, spec)
        losses = np.concatenate([result.losses for result in results])
        expected = np.concatenate(reference.train(spec)[0])
        np.testing.assert_allclose(losses, expected, rtol=self.rtol, atol=self.atol)
        x, hp, weights = spec.x_train, spec.hyperparameters, results[-1].weights
        ours = backend.predict(spec.variant, hp, weights, x, self.device)
        theirs = reference.predict(spec.variant, hp, weights, x)
        assert ours.shape == theirs.shape == (len(x), OTHER_SHAPE.classes)
        np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-5)

    def test_predict_agrees_with_the_reference(self, registry, spec):
        backend = registry.get(self.backend)
        *_, last = train_all(backend, spec)
        x = spec.x_train
        ours = backend.predict(spec.variant, spec.hyperparameters, last.weights, x, self.device)
        theirs = self.reference_scores(registry, spec, last.weights, x)
        assert ours.shape == theirs.shape == (len(x), 10)
        np.testing.assert_allclose(ours, theirs, rtol=1e-4, atol=1e-5)

    def test_weights_round_trip_through_npz(self, registry, spec, tmp_path):
        backend = registry.get(self.backend)
        *_, last = train_all(backend, spec)
        weights_file.save(tmp_path, "weights.npz", last.weights)
        shapes = {name: np.shape(array) for name, array in spec.initial_weights.items()}
        loaded = weights_file.load(tmp_path / "weights.npz", shapes)
        x = spec.x_train
        np.testing.assert_array_equal(
            backend.predict(spec.variant, spec.hyperparameters, loaded, x, self.device),
            backend.predict(spec.variant, spec.hyperparameters, last.weights, x, self.device),
        )

    def test_training_is_deterministic_under_a_seed(self, registry, spec):
        backend = registry.get(self.backend)
        np.testing.assert_array_equal(step_losses(backend, spec), step_losses(backend, spec))

    def test_one_result_per_epoch_with_the_initial_weights_layout(self, registry, spec):
        results = train_all(registry.get(self.backend), spec)
        assert len(results) == len(spec.epochs)
        for epoch, result in enumerate(results):
            assert len(result.losses) == spec.steps_in_epoch(epoch)
            assert np.all(np.isfinite(result.losses))
            assert sorted(result.weights) == sorted(spec.initial_weights)
            for name, value in result.weights.items():
                assert value.shape == spec.initial_weights[name].shape, name
                assert value.dtype == np.float32, name

    def test_training_leaves_the_specs_arrays_unchanged(self, registry, spec):
        """A trainer copies what it trains: the core keeps the initial weights (the run's
        first checkpoint) and the training set, and may hand them to another trainer."""
        before = {name: np.array(value) for name, value in spec.initial_weights.items()}
        x_before = spec.x_train.copy()
        train_all(registry.get(self.backend), spec)
        for name, value in before.items():
            np.testing.assert_array_equal(spec.initial_weights[name], value, err_msg=name)
        np.testing.assert_array_equal(spec.x_train, x_before)

    def test_resuming_after_an_epoch_continues_bit_for_bit(self, registry, spec, tmp_path):
        backend = registry.get(self.backend)
        if not is_resumable(backend):
            pytest.skip(f"backend {self.backend!r} does not declare resumable = True")
        full = train_all(backend, spec)
        saved = checkpoint.Checkpoint("conformance", 1, full[0].weights, dict(full[0].state))
        checkpoint.save(tmp_path, saved)  # through the core's checkpoint file, as a real resume
        kept = checkpoint.load(tmp_path, "conformance")
        resumed_spec = dataclasses.replace(
            spec, start_epoch=1, initial_weights=kept.weights, initial_state=kept.state
        )
        resumed = train_all(backend, resumed_spec)
        assert len(resumed) == len(full) - 1
        for expected, actual in zip(full[1:], resumed):
            np.testing.assert_array_equal(actual.losses, expected.losses)
            assert sorted(actual.weights) == sorted(expected.weights)
            for name, value in expected.weights.items():
                np.testing.assert_array_equal(actual.weights[name], value, err_msg=name)
            assert sorted(actual.state) == sorted(expected.state)
            for name, value in expected.state.items():
                np.testing.assert_array_equal(actual.state[name], value, err_msg=name)
