"""What the core makes for the backends, per variant: dropout masks and the order of samples.

Every backend trains on these, so a wrong mask or order is wrong on every backend alike and no
comparison between backends can notice it; these tests check them against what the variants'
contracts promise.
"""

from __future__ import annotations

import numpy as np
import pytest

from mnistbench.training.train import build_spec
from mnistbench.variants import VARIANTS, random_streams

N_TRAIN = 1500


def plan(variant: str, seed: int = 0, n_train: int = N_TRAIN, **overrides):
    the_variant = VARIANTS[variant]
    hp = the_variant.hyperparameters(overrides)
    _, order_rng, mask_rng = random_streams(seed)
    return the_variant.plan(order_rng, mask_rng, n_train, hp), hp


# --- dropout masks ------------------------------------------------------------------------------


@pytest.mark.parametrize("keep", [0.5, 0.8])
def test_masks_hold_0_or_1_over_keep_one_row_per_sample_one_column_per_unit(keep):
    the_plan, hp = plan("dropout_mlp", keep=keep, epochs=2)
    masks = the_plan.extras["dropout_masks"][0]
    assert masks.shape == (hp["train_samples"], hp["hidden"]) and masks.dtype == np.float32
    assert set(np.unique(masks).tolist()) == {0.0, np.float32(1 / keep)}


@pytest.mark.parametrize("keep", [0.5, 0.8])
def test_the_share_of_units_kept_is_keep(keep):
    the_plan, _ = plan("dropout_mlp", keep=keep, epochs=2)
    for epoch in range(2):
        kept = the_plan.extras["dropout_masks"][epoch] > 0
        # 40,000 draws: the share's standard deviation is at most 0.0025
        assert kept.mean() == pytest.approx(keep, abs=0.01)
        # and no unit or sample is favoured: each of the 40 units is kept about keep of the time
        assert np.abs(kept.mean(axis=0) - keep).max() < 0.08


def test_keep_1_keeps_every_unit_unscaled():
    the_plan, _ = plan("dropout_mlp", keep=1.0, epochs=1)
    np.testing.assert_array_equal(the_plan.extras["dropout_masks"][0], 1.0)


def test_masks_are_fresh_each_epoch():
    the_plan, _ = plan("dropout_mlp", epochs=3)
    masks = the_plan.extras["dropout_masks"]
    assert len(masks) == 3
    for a, b in [(0, 1), (1, 2), (0, 2)]:
        # independent masks at keep 0.5 agree on about half the entries
        assert np.mean(masks[a] == masks[b]) == pytest.approx(0.5, abs=0.02)


def test_masks_are_reproducible_from_the_seed_in_any_order_of_asking():
    first, _ = plan("dropout_mlp", seed=3, epochs=3)
    again, _ = plan("dropout_mlp", seed=3, epochs=3)
    other, _ = plan("dropout_mlp", seed=4, epochs=3)
    backwards = [again.extras["dropout_masks"][e] for e in (2, 1, 0)][::-1]
    for epoch in range(3):
        np.testing.assert_array_equal(first.extras["dropout_masks"][epoch], backwards[epoch])
        assert not np.array_equal(
            first.extras["dropout_masks"][epoch], other.extras["dropout_masks"][epoch]
        )


def test_masks_exist_for_the_planned_epochs_only():
    the_plan, _ = plan("dropout_mlp", epochs=2)
    masks = the_plan.extras["dropout_masks"]
    with pytest.raises(IndexError):
        masks[2]
    with pytest.raises(IndexError):
        masks[-1]


def test_the_spec_hands_each_step_the_mask_row_of_its_sample():
    variant = VARIANTS["dropout_mlp"]
    hp = variant.hyperparameters({"train_samples": 30, "epochs": 2})
    images = np.zeros((50, 28, 28), np.uint8)
    spec = build_spec(variant, hp, images, np.zeros(50, np.uint8), 0, "cpu")
    again, _ = plan("dropout_mlp", n_train=50, train_samples=30, epochs=2)
    assert spec.batch_size == 1 and [len(e) for e in spec.epochs] == [30, 30]
    for epoch in range(2):
        np.testing.assert_array_equal(spec.epochs[epoch], np.arange(30))  # the first 30, in order
        np.testing.assert_array_equal(
            spec.extras["dropout_masks"][epoch], again.extras["dropout_masks"][epoch]
        )


def test_dropout_trains_on_the_first_train_samples_and_no_more_than_there_are():
    few, _ = plan("dropout_mlp", n_train=200, train_samples=1000, epochs=1)
    assert len(few.epochs[0]) == 200 and few.extras["dropout_masks"][0].shape == (200, 40)


# --- order of samples -----------------------------------------------------------------------


def test_mlp_visits_the_training_set_in_file_order_every_epoch():
    the_plan, hp = plan("mlp", epochs=3)
    assert the_plan.batch_size == hp["batch_size"] == 8
    assert len(the_plan.epochs) == 3
    for order in the_plan.epochs:
        np.testing.assert_array_equal(order, np.arange(N_TRAIN))
        assert order.dtype == np.int64


@pytest.mark.parametrize("variant", ["mnn", "predictive_coding"])
def test_shuffled_variants_visit_every_sample_once_per_epoch_in_a_fresh_order(variant):
    the_plan, hp = plan(variant, epochs=3)
    again, _ = plan(variant, epochs=3)
    assert the_plan.batch_size == hp["batch_size"] and len(the_plan.epochs) == 3
    for e, order in enumerate(the_plan.epochs):
        assert order.dtype == np.int64
        np.testing.assert_array_equal(np.sort(order), np.arange(N_TRAIN))
        np.testing.assert_array_equal(order, again.epochs[e])  # the seed fixes it
    assert not np.array_equal(the_plan.epochs[0], the_plan.epochs[1])
    assert not np.array_equal(the_plan.epochs[0], np.arange(N_TRAIN))


def test_sigmoid_mlp_draws_batch_size_samples_with_replacement_per_iteration():
    the_plan, _ = plan("sigmoid_mlp", iterations=250, log_every=100, batch_size=16)
    # 250 iterations logged every 100: "epochs" of 100, 100 and 50 iterations
    assert [len(e) for e in the_plan.epochs] == [1600, 1600, 800]
    assert the_plan.batch_size == 16
    drawn = np.concatenate(the_plan.epochs)
    assert drawn.dtype == np.int64 and drawn.min() >= 0 and drawn.max() < N_TRAIN
    assert len(np.unique(drawn)) < len(drawn)  # with replacement: 4,000 draws from 1,500 repeat
    assert drawn.max() > 0.95 * N_TRAIN  # from the whole set


def test_plans_differ_between_seeds():
    for variant in ["mnn", "sigmoid_mlp"]:
        a, _ = plan(variant, seed=0)
        b, _ = plan(variant, seed=1)
        assert not np.array_equal(a.epochs[0], b.epochs[0]), variant


@pytest.mark.parametrize("variant", sorted(VARIANTS))
def test_plan_bytes_counts_what_the_plan_holds(variant):
    """The memory estimate that refuses oversized runs matches the arrays the plan makes."""
    the_variant = VARIANTS[variant]
    overrides = dict(the_variant.small)
    the_plan, hp = plan(variant, n_train=96, **overrides)
    held = sum(order.nbytes for order in the_plan.epochs if order is not the_plan.epochs[0])
    held += the_plan.epochs[0].nbytes
    shared = all(order is the_plan.epochs[0] for order in the_plan.epochs)
    if shared:  # one order referenced by every epoch: the estimate counts 8 bytes per reference
        held = the_plan.epochs[0].nbytes + 8 * len(the_plan.epochs)
    held += sum(masks[0].nbytes for masks in the_plan.extras.values())
    assert the_variant.plan_bytes(hp, 96) == held


def test_sigmoid_mlp_draws_from_the_whole_training_set_first_sample_included():
    the_plan, _ = plan("sigmoid_mlp", n_train=10, iterations=20, log_every=10, batch_size=10)
    assert set(np.concatenate(the_plan.epochs).tolist()) == set(range(10))


def test_each_seed_draws_its_own_masks():
    """The masks' stream is seeded from the run's seed through a 63-bit draw: 300 seeds give
    300 different mask sets."""
    first_masks = {
        plan("dropout_mlp", seed=seed, n_train=4, epochs=1, hidden=16)[0]
        .extras["dropout_masks"][0]
        .tobytes()
        for seed in range(300)
    }
    assert len(first_masks) == 300


def test_asking_for_an_epoch_beyond_the_plan_names_it():
    the_plan, _ = plan("dropout_mlp", epochs=2)
    with pytest.raises(IndexError, match="^5$"):
        the_plan.extras["dropout_masks"][5]
