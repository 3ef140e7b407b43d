"""Conformance tests for a mnistbench backend: is it computing what the reference computes?

A plugin author subclasses :class:`BackendConformance` in their own test suite and runs pytest:

    # tests/test_conformance.py of mnistbench-jax
    from mnistbench.plugin import BackendConformance

    class TestJaxConformance(BackendConformance):
        backend = "jax"

Every test runs once per installed variant the backend implements (a variant plugin's
included; ``variants = ("lenet",)`` narrows a suite to some) and per implementation the backend
offers for it (``tuned``, ``autograd``, ``compiled``: ``implementations = ("tuned",)`` narrows):
the suite collects only those, so a skip always names something missing (a variant the suite
names but the backend lacks, a GPU, resumability). Each trains a short run (the variant's
``small`` hyperparameters, at least 20 steps) built by the core from one seed:

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
``conformance_data`` fixture to use real images. Every failed comparison says what it compared
and where the values differ most (:mod:`mnistbench.plugin.comparisons`).

The knobs are the class attributes below; ``docs/plugins.md`` says when loosening them is honest.
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

from mnistbench.errors import MnistbenchError
from mnistbench.plugin.backend import implementations, is_resumable, train_all
from mnistbench.plugin.comparisons import assert_close, assert_equal, assert_that
from mnistbench.plugin.registry import load_backends
from mnistbench.plugin.short_runs import (  # noqa: F401 - small_spec: for a backend's own tests
    MIN_STEPS,
    OTHER_SHAPE,
    SAMPLES,
    class_pattern_data,
    first_step,
    other_shape_spec,
    small_spec,
    step_losses,
)
from mnistbench.training import checkpoint, weights_file
from mnistbench.training.train import build_spec
from mnistbench.variants import VARIANTS, reference


class BackendConformance:
    """Subclass with ``backend = "<name>"``; override the attributes below where needed."""

    backend: str = ""  # the backend under test
    reference: str = "numpy"  # the backend whose losses and scores it must match
    device: str = "cpu"  # where to train: "cuda" in a second subclass checks a GPU
    seed: int = 0  # the seed the short runs are made from
    rtol: float = 1e-4  # |ours - theirs| <= atol + rtol * |theirs|, step by step
    atol: float = 1e-6
    variants: tuple[str, ...] | None = None  # the variants to check; None: every installed one
    implementations: tuple[str, ...] | None = None  # those to check; None: every one it offers

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
        return class_pattern_data()

    def __init_subclass__(cls, **kwargs):
        """A suite narrowed to variants of which none takes :data:`OTHER_SHAPE` does not
        collect the other-shape test at all."""
        super().__init_subclass__(**kwargs)
        named = cls.variants or ()
        if named and all(n in VARIANTS and VARIANTS[n].refuses(OTHER_SHAPE) for n in named):
            cls.test_another_shape_trains_and_predicts_as_the_float64_arithmetic = None

    def variants_under_test(self) -> list[str]:
        """The variants this suite runs: ``variants`` where given, else every installed one the
        backend implements (every installed one where the backend cannot be loaded: each test
        then fails saying why)."""
        if self.variants is not None:
            return list(self.variants)
        try:
            implemented = load_backends().get(self.backend).variants
        except MnistbenchError:
            implemented = VARIANTS
        return sorted(name for name in VARIANTS if name in implemented)

    def pytest_generate_tests(self, metafunc):
        """Each test once per variant under test, and the other-shape test once per such variant
        that takes 26 classes of 32 x 32 images: no test is collected only to be skipped."""
        if "variant" not in metafunc.fixturenames:
            return
        names = self.variants_under_test()
        if "other_shape_spec" in metafunc.fixturenames:
            names = [
                n for n in names if n not in VARIANTS or VARIANTS[n].refuses(OTHER_SHAPE) is None
            ]
        argnames = ["variant"]
        if "implementation" in metafunc.fixturenames:
            argnames.append("implementation")
            cases = [(n, i) for n in names for i in self.implementations_under_test(n)]
        else:
            cases = [(n,) for n in names]
        if not cases:
            skip = pytest.mark.skip(reason=f"no variant under test takes {OTHER_SHAPE}")
            cases = [pytest.param(*[None] * len(argnames), marks=skip, id="none")]
        metafunc.parametrize(argnames, cases, indirect=["variant"])

    def implementations_under_test(self, variant: str) -> list[str]:
        """The implementations of ``variant`` this suite checks: ``implementations`` where given,
        else every one the backend offers for it (``tuned`` where the backend cannot be loaded:
        each test then fails saying why)."""
        found = load_backends().backends.get(self.backend)
        known = found is not None and variant in VARIANTS
        offered = implementations(found, variant) if known else ("tuned",)
        return [i for i in offered if self.implementations is None or i in self.implementations]

    @pytest.fixture
    def variant(self, request, registry):
        name = request.param
        backend = registry.get(self.backend)
        if name not in VARIANTS:
            pytest.fail(f"variant {name!r} is not installed (installed: {', '.join(VARIANTS)})")
        if name not in backend.variants:
            pytest.skip(f"backend {self.backend!r} does not implement variant {name!r}")
        return VARIANTS[name]

    @pytest.fixture
    def spec(self, variant, implementation, conformance_data):
        images, labels = conformance_data
        hp = variant.hyperparameters(variant.small)
        return build_spec(variant, hp, images, labels, self.seed, self.device,
                          implementation=implementation)  # fmt: skip

    def test_backend_is_available(self, registry):
        found = registry.get(self.backend).name
        assert_that(found == self.backend, f"asked for {self.backend!r}, got a backend {found!r}")

    def test_run_is_long_enough_to_compare(self, spec):
        steps = sum(spec.steps_in_epoch(e) for e in range(len(spec.epochs)))
        assert_that(steps >= MIN_STEPS, f"the short run has {steps} steps; at least {MIN_STEPS}")

    def test_first_step_matches_the_float64_arithmetic(self, registry, spec):
        """The first loss, and each weight's move in the first update, within 1% of the largest
        move (float32 against float64: Adam's first step is about lr * sign(g), whose sign
        float32 rounding can flip where g is near 0)."""
        one = first_step(spec)
        [result] = train_all(registry.get(self.backend), one)
        [expected_losses], [expected] = reference.train(one)
        assert_close("first step's loss", result.losses[:1], expected_losses[:1], rtol=1e-5)
        for name, start in one.initial_weights.items():
            moved = np.asarray(result.weights[name], np.float64) - start
            expected_move = expected[name] - start
            largest = np.abs(expected_move).max()
            assert_that(largest > 0, f"{name} does not move in the first step of the reference")
            assert_close(f"first step's move of {name}", moved, expected_move, atol=1e-2 * largest)

    def test_loss_trajectory_matches_the_reference(self, registry, spec):
        expected = self.reference_losses(registry, spec)
        actual = step_losses(registry.get(self.backend), spec)
        what = f"step losses against {self.reference}'s"
        assert_close(what, actual, expected, rtol=self.rtol, atol=self.atol)

    @pytest.fixture
    def other_shape_spec(self, variant, implementation):
        """The variant's short run on 26 classes of 32 x 32 images (collected only for a
        variant that takes that shape)."""
        return other_shape_spec(variant, self.seed, self.device, implementation)

    def test_another_shape_trains_and_predicts_as_the_float64_arithmetic(
        self, registry, other_shape_spec
    ):
        spec, backend = other_shape_spec, registry.get(self.backend)
        results = train_all(backend, spec)
        losses = np.concatenate([result.losses for result in results])
        expected = np.concatenate(reference.train(spec)[0])
        what = f"step losses on {OTHER_SHAPE} against the float64 arithmetic's"
        assert_close(what, losses, expected, rtol=self.rtol, atol=self.atol)
        x, hp, weights = spec.x_train, spec.hyperparameters, results[-1].weights
        ours = backend.predict(spec.variant, hp, weights, x, self.device)
        theirs = reference.predict(spec.variant, hp, weights, x)
        shape = (len(x), OTHER_SHAPE.classes)
        assert_that(np.shape(ours) == shape, f"predict's scores {np.shape(ours)}, not {shape}")
        assert_close(f"scores on {OTHER_SHAPE}", ours, theirs, rtol=1e-4, atol=1e-5)

    def test_predict_agrees_with_the_reference(self, registry, spec):
        backend = registry.get(self.backend)
        *_, last = train_all(backend, spec)
        x = spec.x_train
        ours = backend.predict(spec.variant, spec.hyperparameters, last.weights, x, self.device)
        theirs = self.reference_scores(registry, spec, last.weights, x)
        shape = (len(x), spec.classes)
        assert_that(np.shape(ours) == shape, f"predict's scores {np.shape(ours)}, not {shape}")
        assert_close(f"scores against {self.reference}'s", ours, theirs, rtol=1e-4, atol=1e-5)

    def test_weights_round_trip_through_npz(self, registry, spec, tmp_path):
        backend = registry.get(self.backend)
        *_, last = train_all(backend, spec)
        weights_file.save(tmp_path, "weights.npz", last.weights)
        shapes = {name: np.shape(array) for name, array in spec.initial_weights.items()}
        loaded = weights_file.load(tmp_path / "weights.npz", shapes)
        x = spec.x_train
        assert_equal(
            "scores from the weights loaded from .npz against those from the trained weights",
            backend.predict(spec.variant, spec.hyperparameters, loaded, x, self.device),
            backend.predict(spec.variant, spec.hyperparameters, last.weights, x, self.device),
        )

    def test_training_is_deterministic_under_a_seed(self, registry, spec):
        backend = registry.get(self.backend)
        first, again = step_losses(backend, spec), step_losses(backend, spec)
        assert_equal("step losses of a second run from the same seed", again, first)

    def test_one_result_per_epoch_with_the_initial_weights_layout(self, registry, spec):
        results = train_all(registry.get(self.backend), spec)
        epochs = len(spec.epochs)
        assert_that(len(results) == epochs, f"{len(results)} EpochResults for {epochs} epochs")
        for epoch, result in enumerate(results):
            steps, losses = spec.steps_in_epoch(epoch), np.asarray(result.losses)
            assert_that(len(losses) == steps, f"epoch {epoch}: {len(losses)} losses, {steps} steps")
            assert_that(np.all(np.isfinite(losses)), f"epoch {epoch}: losses not finite: {losses}")
            names, wanted = sorted(result.weights), sorted(spec.initial_weights)
            assert_that(names == wanted, f"epoch {epoch}: weights {names}, not {wanted}")
            for name, value in result.weights.items():
                shape, kind = spec.initial_weights[name].shape, getattr(value, "dtype", type(value))
                assert_that(
                    isinstance(value, np.ndarray) and value.shape == shape and kind == np.float32,
                    f"epoch {epoch}: weight {name} is {type(value).__name__} {kind} "
                    f"{np.shape(value)}; a float32 NumPy array {shape} is required",
                )

    def test_training_leaves_the_specs_arrays_unchanged(self, registry, spec):
        """A trainer copies what it trains: the core keeps the initial weights (the run's
        first checkpoint) and the training set, and may hand them to another trainer."""
        before = {name: np.array(value) for name, value in spec.initial_weights.items()}
        x_before = spec.x_train.copy()
        train_all(registry.get(self.backend), spec)
        for name, value in before.items():
            assert_equal(
                f"spec.initial_weights[{name!r}] after training", spec.initial_weights[name], value
            )
        assert_equal("spec.x_train after training", spec.x_train, x_before)

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
        wanted = len(full) - 1
        assert_that(len(resumed) == wanted, f"{len(resumed)} epochs resumed, {wanted} expected")
        for epoch, (expected, actual) in enumerate(zip(full[1:], resumed), start=1):
            resumed_at = f"epoch {epoch} resumed"
            assert_equal(f"{resumed_at}: step losses", actual.losses, expected.losses)
            for part in ("weights", "state"):
                ours, theirs = getattr(actual, part), getattr(expected, part)
                assert_that(
                    sorted(ours) == sorted(theirs),
                    f"{resumed_at}: {part} {sorted(ours)}, uninterrupted {sorted(theirs)}",
                )
                for name, value in theirs.items():
                    assert_equal(f"{resumed_at}: {part} {name}", ours[name], value)
