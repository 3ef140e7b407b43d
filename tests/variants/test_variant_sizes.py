"""What a variant says about sizes before anything is made: the samples a run visits (its cost,
hence the train jobs' order), the weights' shapes and memory for a dataset's shape, and the
shapes it refuses; each checked on data that is not MNIST's, where the answers differ."""

from __future__ import annotations

import dataclasses
import math

import pytest

from mnistbench.data.shapes import MNIST, Shape
from mnistbench.errors import MnistbenchError
from mnistbench.variants import VARIANTS, reference

LETTERS = Shape(32, 32, 26)


def test_samples_visited_are_the_steps_times_the_samples_each_takes():
    dropout, sigmoid = VARIANTS["dropout_mlp"], VARIANTS["sigmoid_mlp"]
    hp = dropout.hyperparameters({"epochs": 7, "train_samples": 300})
    assert dropout.cost.samples_visited(hp, 60_000) == 7 * 300
    assert dropout.cost.samples_visited(hp, 200) == 7 * 200  # fewer images than asked for
    hp = sigmoid.hyperparameters({"iterations": 40, "batch_size": 16})
    assert sigmoid.cost.samples_visited(hp, 60_000) == 40 * 16
    hp = VARIANTS["mlp"].hyperparameters({"epochs": 3})
    assert VARIANTS["mlp"].cost.samples_visited(hp, 1_000) == 3_000


def test_a_variant_sized_by_data_has_the_shapes_and_memory_of_that_data():
    mlp = VARIANTS["mlp"]
    hp = mlp.hyperparameters()
    shapes = mlp.shapes_for(hp, LETTERS)
    assert shapes["W1"] == (1024, hp["hidden"]) and shapes["W2"] == (hp["hidden"], 26)
    params = sum(math.prod(s) for s in shapes.values())
    assert mlp.memory_bytes(hp, 100, LETTERS) == 16 * params + mlp.plan_bytes(hp, 100)
    assert mlp.memory_bytes(hp, 100, LETTERS) > mlp.memory_bytes(hp, 100, MNIST)


def test_a_variant_not_sized_by_data_keeps_mnists_shapes_and_refuses_other_data():
    fixed = dataclasses.replace(VARIANTS["mlp"], sized_by_data=False)
    hp = fixed.hyperparameters()
    assert fixed.shapes_for(hp, LETTERS) == VARIANTS["mlp"].shapes_for(hp, MNIST)
    assert fixed.refuses(MNIST) is None
    assert fixed.refuses(LETTERS) == f"it is sized for MNIST's {MNIST}, not from the data"


def test_a_variant_sized_by_data_asks_its_own_check_about_the_shape():
    seen = []
    picky = dataclasses.replace(VARIANTS["mlp"], takes=lambda shape: seen.append(shape) or "no")
    assert picky.refuses(LETTERS) == "no" and seen == [LETTERS]


def test_too_little_memory_names_the_shape_only_where_it_is_not_mnists():
    mlp = VARIANTS["mlp"]
    hp = mlp.hyperparameters()
    with pytest.raises(MnistbenchError) as on_mnist:
        mlp.check_fits(hp, 100, 1, MNIST)
    with pytest.raises(MnistbenchError, match=f" on {LETTERS} needs about"):
        mlp.check_fits(hp, 100, 1, LETTERS)
    assert " on " not in str(on_mnist.value).split(" needs about")[0]
    enough = mlp.memory_bytes(hp, 100, MNIST)
    mlp.check_fits(hp, 100, enough, MNIST)  # exactly enough fits
    with pytest.raises(MnistbenchError):
        mlp.check_fits(hp, 100, enough, LETTERS)  # the same bytes are too few for larger images


def test_the_reference_module_names_what_it_lacks():
    with pytest.raises(AttributeError, match="has no attribute 'no_such_reference'"):
        reference.no_such_reference  # noqa: B018


def test_the_installed_variants_read_as_their_names():
    assert repr(VARIANTS) == f"VARIANTS({', '.join(VARIANTS)})"
