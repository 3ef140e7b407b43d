"""Conformance tests for a mnistbench variant: is its declaration complete and sound?

A variant author subclasses :class:`VariantConformance` in their own test suite, as a backend's
author subclasses :class:`mnistbench.plugin.testing.BackendConformance`:

    # tests/test_conformance.py of mnistbench-lenet
    from mnistbench.plugin import VariantConformance

    class TestLenetVariant(VariantConformance):
        variant = "lenet"

It checks, on the suite's synthetic data and the variant's short run (``small``): the variant is
installed under a usable name; its initial weights and plan are the same under the same seed
and change with it; the weights have the declared shapes and are float32; the plan visits only
real samples, in whole batches, with at least 20 steps; the prepared inputs are float32 in the
declared layout; the float64 reference loss falls over the short run and its predictions have
one score per class; the contract says every part and every hyperparameter's meaning; a cost,
where declared, is positive. Backends are checked on the variant by their own suite. Every
failed check says what it compared and the values.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from mnistbench.plan import names
from mnistbench.plugin import contract
from mnistbench.plugin.comparisons import assert_equal, assert_that
from mnistbench.plugin.testing import MIN_STEPS, BackendConformance
from mnistbench.training.train import build_spec
from mnistbench.variants import get_variant, random_streams, reference

LAYOUT_DIMENSIONS = {"flat": 2, "images": 4}


class VariantConformance:
    """Subclass with ``variant = "<name>"``."""

    variant: str = ""
    seed: int = 0
    classes: int = 10

    conformance_data = BackendConformance.conformance_data

    @pytest.fixture(scope="class")
    @classmethod
    def declared(cls):
        return get_variant(cls.variant)

    @pytest.fixture(scope="class")
    @classmethod
    def spec(cls, declared, conformance_data):
        images, labels = conformance_data
        hp = declared.hyperparameters(declared.small)
        return build_spec(declared, hp, images, labels, cls.seed, "cpu")

    def test_the_variant_is_installed_under_a_usable_name(self, declared):
        assert_that(
            declared.name == self.variant and names.is_name(declared.name),
            f"asked for {self.variant!r}, found {declared.name!r} ({names.NAME_RULE})",
        )

    def test_initial_weights_are_fixed_by_the_seed(self, declared):
        hp = declared.hyperparameters(declared.small)
        first, again, other = (
            declared.initial_weights(random_streams(s)[0], hp) for s in (0, 0, 1)
        )
        assert_that(
            sorted(first) == sorted(again) == sorted(other),
            f"weights named {sorted(first)}, {sorted(again)}, {sorted(other)} from seeds 0, 0, 1",
        )
        for name, value in first.items():
            assert_equal(f"initial {name} from seed 0, made again", again[name], value)
        assert_that(
            any(not np.array_equal(v, other[k]) for k, v in first.items()),
            "the initial weights from seeds 0 and 1 are the same",
        )

    def test_initial_weights_have_the_declared_shapes_and_are_float32(self, declared):
        hp = declared.hyperparameters()
        weights = declared.initial_weights(random_streams(0)[0], hp)
        shapes, declared_shapes = (
            {k: v.shape for k, v in weights.items()},
            declared.weight_shapes(hp),
        )
        assert_that(shapes == declared_shapes, f"weights {shapes}, declared {declared_shapes}")
        dtypes = {k: str(v.dtype) for k, v in weights.items() if v.dtype != np.float32}
        assert_that(not dtypes, f"initial weights not float32: {dtypes}")

    def test_the_plan_is_fixed_by_the_seed(self, declared, spec, conformance_data):
        images, labels = conformance_data
        hp = declared.hyperparameters(declared.small)
        again = build_spec(declared, hp, images, labels, self.seed, "cpu")
        for epoch, (ours, theirs) in enumerate(zip(spec.epochs, again.epochs, strict=True)):
            assert_equal(f"epoch {epoch}'s order, planned again", theirs, ours)
        for name, per_epoch in spec.extras.items():
            for epoch, value in enumerate(per_epoch):
                assert_equal(
                    f"epoch {epoch}'s {name}, planned again", again.extras[name][epoch], value
                )

    def test_the_plan_visits_real_samples_with_enough_steps(self, spec):
        n = len(spec.x_train)
        for epoch, order in enumerate(spec.epochs):
            assert_that(
                order.dtype == np.int64 and len(order) and 0 <= order.min() and order.max() < n,
                f"epoch {epoch}'s order: {order.dtype} {order[:8]}..., {len(order)} indices; "
                f"int64 indices into the {n} samples are required",
            )
        steps = sum(spec.steps_in_epoch(e) for e in range(len(spec.epochs)))
        assert_that(steps >= MIN_STEPS, f"the short run has {steps} steps; at least {MIN_STEPS}")

    def test_inputs_are_float32_in_the_declared_layout(self, declared, spec):
        x, layout = spec.x_train, declared.input_layout
        wanted = "(N, pixels)" if layout == "flat" else "(N, 1, H, W)"
        assert_that(
            x.dtype == np.float32
            and x.ndim == LAYOUT_DIMENSIONS[layout]
            and (layout != "images" or x.shape[1] == 1),
            f"prepared inputs are {x.dtype} {x.shape}; input_layout {layout!r} is float32 {wanted}",
        )

    def test_the_reference_loss_falls_over_the_short_run(self, spec):
        losses, _ = reference.train(spec)
        every = np.concatenate(losses)
        assert_that(np.all(np.isfinite(every)), f"reference losses not finite: {every}")
        first, last = np.mean(losses[0]), np.mean(losses[-1])
        assert_that(
            last < first,
            f"mean reference loss {first:.6g} in the first epoch, {last:.6g} in the last",
        )

    def test_reference_predictions_have_a_score_per_class(self, declared, spec):
        scores = reference.predict(declared.name, spec.hyperparameters, spec.initial_weights,
                                   spec.x_train[:5])  # fmt: skip
        assert_that(
            scores.shape == (5, self.classes) and np.all(np.isfinite(scores)),
            f"reference scores of 5 inputs: shape {scores.shape} (wanted (5, {self.classes})), "
            f"finite: {bool(np.all(np.isfinite(scores)))}",
        )

    def test_the_contract_is_complete(self, declared):
        c = declared.contract
        parts = {"forward": c.forward, "loss": c.loss, "update": c.update, "predict": c.predict}
        empty = [k for k, v in {**parts, "summary": declared.summary}.items() if not v]
        assert_that(not empty, f"the contract leaves empty: {', '.join(empty)}")
        said, defaults = set(c.hyperparameters), set(declared.defaults)
        assert_that(
            said == defaults,
            f"the contract explains {sorted(said)}; the defaults are {sorted(defaults)}",
        )
        unexplained = [k for k, v in c.hyperparameters.items() if not v]
        assert_that(not unexplained, f"hyperparameters without a meaning: {unexplained}")
        heading = f"## `{declared.name}`"
        assert_that(heading in contract.describe(declared), f"the contract's page lacks {heading}")

    def test_a_declared_cost_is_positive(self, declared):
        if declared.cost is None:
            pytest.skip(f"variant {declared.name!r} declares no cost")
        hp = declared.hyperparameters()
        seconds, per_sample = declared.cost.seconds(hp, 60_000), declared.cost.seconds_per_sample
        assert_that(
            seconds > 0 and math.isfinite(per_sample),
            f"cost: {seconds} s for 60,000 samples, {per_sample} s per sample",
        )
