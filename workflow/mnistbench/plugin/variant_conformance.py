"""Conformance tests for a mnistbench variant: is its declaration complete and sound?

A variant author subclasses :class:`VariantConformance` in their own test suite, as a backend's
author subclasses :class:`mnistbench.plugin.testing.BackendConformance`:

    # tests/test_conformance.py of mnistbench-lenet
    from mnistbench.plugin.variant_conformance import VariantConformance

    class TestLenetVariant(VariantConformance):
        variant = "lenet"

It checks, on the suite's synthetic data and the variant's short run (``small``): the variant is
installed under a usable name; its initial weights and plan are the same under the same seed
and change with it; the weights have the declared shapes and are float32; the plan visits only
real samples, in whole batches, with at least 20 steps; the prepared inputs are float32 in the
declared layout; the float64 reference loss falls over the short run and its predictions have
one score per class; the contract says every part and every hyperparameter's meaning; a cost,
where declared, is positive. Backends are checked on the variant by their own suite.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from mnistbench.plan import names
from mnistbench.plugin import contract
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
        assert declared.name == self.variant and names.is_name(declared.name)

    def test_initial_weights_are_fixed_by_the_seed(self, declared):
        hp = declared.hyperparameters(declared.small)
        first, again, other = (
            declared.initial_weights(random_streams(s)[0], hp) for s in (0, 0, 1)
        )
        assert sorted(first) == sorted(again) == sorted(other)
        for name, value in first.items():
            np.testing.assert_array_equal(value, again[name], err_msg=name)
        assert any(not np.array_equal(v, other[k]) for k, v in first.items())

    def test_initial_weights_have_the_declared_shapes_and_are_float32(self, declared):
        hp = declared.hyperparameters()
        weights = declared.initial_weights(random_streams(0)[0], hp)
        assert {k: v.shape for k, v in weights.items()} == declared.weight_shapes(hp)
        assert all(v.dtype == np.float32 for v in weights.values())

    def test_the_plan_is_fixed_by_the_seed(self, declared, spec, conformance_data):
        images, labels = conformance_data
        hp = declared.hyperparameters(declared.small)
        again = build_spec(declared, hp, images, labels, self.seed, "cpu")
        for ours, theirs in zip(spec.epochs, again.epochs, strict=True):
            np.testing.assert_array_equal(ours, theirs)
        for name, per_epoch in spec.extras.items():
            for epoch, value in enumerate(per_epoch):
                np.testing.assert_array_equal(value, again.extras[name][epoch], err_msg=name)

    def test_the_plan_visits_real_samples_with_enough_steps(self, spec):
        for order in spec.epochs:
            assert order.dtype == np.int64 and len(order)
            assert 0 <= order.min() and order.max() < len(spec.x_train)
        assert sum(spec.steps_in_epoch(e) for e in range(len(spec.epochs))) >= MIN_STEPS

    def test_inputs_are_float32_in_the_declared_layout(self, declared, spec):
        assert spec.x_train.dtype == np.float32
        assert spec.x_train.ndim == LAYOUT_DIMENSIONS[declared.input_layout]
        if declared.input_layout == "images":
            assert spec.x_train.shape[1] == 1  # (N, 1, H, W)

    def test_the_reference_loss_falls_over_the_short_run(self, spec):
        losses, _ = reference.train(spec)
        assert np.all(np.isfinite(np.concatenate(losses)))
        assert np.mean(losses[-1]) < np.mean(losses[0])

    def test_reference_predictions_have_a_score_per_class(self, declared, spec):
        scores = reference.predict(declared.name, spec.hyperparameters, spec.initial_weights,
                                   spec.x_train[:5])  # fmt: skip
        assert scores.shape == (5, self.classes) and np.all(np.isfinite(scores))

    def test_the_contract_is_complete(self, declared):
        c = declared.contract
        assert all([c.forward, c.loss, c.update, c.predict, declared.summary])
        assert set(c.hyperparameters) == set(declared.defaults)
        assert all(c.hyperparameters.values())
        assert f"## `{declared.name}`" in contract.describe(declared)

    def test_a_declared_cost_is_positive(self, declared):
        if declared.cost is None:
            pytest.skip(f"variant {declared.name!r} declares no cost")
        hp = declared.hyperparameters()
        assert declared.cost.seconds(hp, 60_000) > 0 and math.isfinite(
            declared.cost.seconds_per_sample
        )
