"""What each variant's module promises about the numbers every backend starts from: input
scaling, the distribution of the initial weights, their shapes, and the hyperparameter checks.

Every backend receives these from the core, so a wrong scale is wrong everywhere at once and no
comparison between backends shows it; here each is checked against its docstring's formula.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from mnistbench.errors import MnistbenchError
from mnistbench.variants import VARIANTS, flatten_scaled, get_variant, random_streams

# One image whose pixels take the values 0, 51, 102, ..., 255 (and 0 elsewhere).
IMAGE = np.zeros((1, 28, 28), np.uint8)
IMAGE[0, 0, :6] = [0, 51, 102, 153, 204, 255]


def weights(variant: str, seed: int = 0, **overrides):
    the_variant = VARIANTS[variant]
    hp = the_variant.hyperparameters(overrides)
    return the_variant.initial_weights(random_streams(seed)[0], hp), hp


# --- inputs ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("variant", ["mlp", "dropout_mlp", "predictive_coding"])
def test_pixels_over_255_flattened(variant):
    x = VARIANTS[variant].prepare_inputs(IMAGE, VARIANTS[variant].defaults)
    assert x.shape == (1, 784) and x.dtype == np.float32
    np.testing.assert_allclose(x[0, :6], [0, 0.2, 0.4, 0.6, 0.8, 1.0], rtol=1e-6)
    assert x[0, 6:].max() == 0


def test_sigmoid_mlp_takes_raw_pixel_values():
    x = VARIANTS["sigmoid_mlp"].prepare_inputs(IMAGE, VARIANTS["sigmoid_mlp"].defaults)
    assert x.shape == (1, 784) and x.dtype == np.float32
    np.testing.assert_array_equal(x[0, :6], [0, 51, 102, 153, 204, 255])


def test_mnn_normalises_with_mnists_mean_and_std():
    x = VARIANTS["mnn"].prepare_inputs(IMAGE, VARIANTS["mnn"].defaults)
    assert x.shape == (1, 784) and x.dtype == np.float32
    expected = (np.array([0, 0.2, 0.4, 0.6, 0.8, 1.0]) - 0.1307) / 0.3081
    np.testing.assert_allclose(x[0, :6], expected, rtol=1e-6)
    assert x[0, 6] == pytest.approx(-0.1307 / 0.3081, rel=1e-6)


def test_flatten_scaled_keeps_the_order_of_pixels_row_by_row():
    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    np.testing.assert_array_equal(flatten_scaled(images, 2.0), np.arange(24).reshape(2, 12) * 2)


# --- initial weights ----------------------------------------------------------------------------


@pytest.mark.parametrize("variant", ["mlp", "predictive_coding"])
def test_dense_layers_are_normal_over_root_fan_in_with_zero_biases(variant):
    w, hp = weights(variant)
    sizes = [784, hp["hidden"], 10]
    assert sorted(w) == ["W1", "W2", "b1", "b2"]
    for i, (n_in, n_out) in enumerate(zip(sizes, sizes[1:]), start=1):
        layer = w[f"W{i}"]
        assert layer.shape == (n_in, n_out) and layer.dtype == np.float32
        assert layer.std() == pytest.approx(1 / math.sqrt(n_in), rel=0.05)
        assert abs(layer.mean()) < 4 / math.sqrt(n_in * n_in * n_out)  # 4 standard errors
        np.testing.assert_array_equal(w[f"b{i}"], np.zeros(n_out, np.float32))
        assert w[f"b{i}"].dtype == np.float32


def test_sigmoid_mlp_weights_are_uniform_over_root_fan_in_times_fan_out():
    w, hp = weights("sigmoid_mlp")
    assert sorted(w) == ["W1", "W2"]
    for layer, (n_in, n_out) in [(w["W1"], (784, hp["hidden"])), (w["W2"], (hp["hidden"], 10))]:
        bound = 1 / math.sqrt(n_in * n_out)
        assert layer.shape == (n_in, n_out) and layer.dtype == np.float32
        assert -bound <= layer.min() < -0.95 * bound and 0.95 * bound < layer.max() <= bound
        assert layer.std() == pytest.approx(bound / math.sqrt(3), rel=0.1)


def test_dropout_mlp_weights_are_uniform_in_plus_minus_a_tenth():
    w, hp = weights("dropout_mlp")
    assert sorted(w) == ["W1", "W2"]
    assert w["W1"].shape == (784, hp["hidden"]) and w["W2"].shape == (hp["hidden"], 10)
    for layer in w.values():
        assert layer.dtype == np.float32
        assert -0.1 <= layer.min() < -0.09 and 0.09 < layer.max() <= 0.1
        assert layer.std() == pytest.approx(0.1 / math.sqrt(3), rel=0.1)


@pytest.mark.parametrize("scale", [0.1, 1.0])
def test_mnn_matrix_is_uniform_between_0_and_init_scale(scale):
    w, hp = weights("mnn", hidden=20, init_scale=scale)
    n = 785 + 20 + 10
    A = w["A"]
    assert sorted(w) == ["A"] and A.shape == (n, n) and A.dtype == np.float32
    assert 0 <= A.min() < 0.01 * scale and 0.99 * scale < A.max() <= scale
    assert A.mean() == pytest.approx(scale / 2, rel=0.01)


# The variants with a hidden width to vary (a plugin's are checked by VariantConformance).
SIZED = [name for name in sorted(VARIANTS) if "hidden" in VARIANTS[name].defaults]


@pytest.mark.parametrize("variant", SIZED)
def test_weight_shapes_are_those_of_the_initial_weights(variant):
    w, hp = weights(variant, hidden=7)
    assert VARIANTS[variant].weight_shapes(hp) == {k: v.shape for k, v in w.items()}


@pytest.mark.parametrize("variant", SIZED)
def test_initial_weights_come_from_the_seed(variant):
    a, _ = weights(variant, seed=1, hidden=7)
    b, _ = weights(variant, seed=1, hidden=7)
    c, _ = weights(variant, seed=2, hidden=7)
    for name in a:
        np.testing.assert_array_equal(a[name], b[name])
    assert any(not np.array_equal(a[k], c[k]) for k in a)


def test_random_streams_are_independent_and_fixed_by_the_seed():
    first = [g.random(4) for g in random_streams(0)]
    again = [g.random(4) for g in random_streams(0)]
    assert len(first) == 3
    np.testing.assert_array_equal(first, again)
    assert len({tuple(v) for v in first}) == 3
    assert len(random_streams(0, n=5)) == 5


# --- hyperparameters and memory ------------------------------------------------------------------


def test_overrides_replace_defaults_and_unknown_keys_are_named():
    mlp = get_variant("mlp")
    assert mlp.hyperparameters({"lr": 0.5}) == {**mlp.defaults, "lr": 0.5}
    assert mlp.hyperparameters() == dict(mlp.defaults)
    with pytest.raises(MnistbenchError) as error:
        mlp.hyperparameters({"momentum": 0.9, "alpha": 1})
    assert str(error.value) == (
        "variant 'mlp': unknown hyperparameter(s) alpha, momentum "
        "(known: batch_size, epochs, hidden, lr)"
    )


@pytest.mark.parametrize(
    "key, value, message",
    [
        ("hidden", 2.5, "'hidden' must be an integer above 0, got 2.5"),
        ("hidden", 0, "'hidden' must be an integer above 0, got 0"),
        ("hidden", True, "'hidden' must be an integer above 0, got True"),
        ("lr", -0.1, "'lr' must be a finite number above 0, got -0.1"),
        ("lr", "0.1", "'lr' must be a finite number above 0, got '0.1'"),
        ("lr", float("inf"), "'lr' must be a finite number above 0, got inf"),
        ("lr", float("nan"), "'lr' must be a finite number above 0, got nan"),
    ],
)
def test_a_bad_hyperparameter_is_one_line_naming_it(key, value, message):
    with pytest.raises(MnistbenchError) as error:
        get_variant("mlp").hyperparameters({key: value})
    assert str(error.value) == f"variant 'mlp': hyperparameter {message}"


def test_integers_pass_where_numbers_are_wanted_and_limits_hold_inclusive():
    dropout = get_variant("dropout_mlp")
    assert dropout.hyperparameters({"lr": 1, "keep": 1.0})["lr"] == 1
    with pytest.raises(MnistbenchError) as error:
        dropout.hyperparameters({"keep": 1.01})
    assert str(error.value) == (
        "variant 'dropout_mlp': hyperparameter 'keep' must be a finite number above 0 and at most "
        "1.0, got 1.01"
    )


def test_memory_needed_is_16_bytes_per_weight_plus_the_plan():
    mlp = get_variant("mlp")
    hp = mlp.hyperparameters({"hidden": 10})
    params = 784 * 10 + 10 + 10 * 10 + 10
    assert mlp.memory_bytes(hp, 1000) == 16 * params + 8 * (1000 + 20)


def test_a_run_too_big_for_memory_is_refused_naming_what_was_changed():
    mlp = get_variant("mlp")
    hp = mlp.hyperparameters({"hidden": 1000, "lr": 0.5})
    needed = mlp.memory_bytes(hp, 60000)
    mlp.check_fits(hp, 60000, needed)  # exactly enough is enough
    with pytest.raises(MnistbenchError) as error:
        mlp.check_fits(hp, 60000, needed - 1)
    assert str(error.value) == (
        f"variant 'mlp' with hidden=1000, lr=0.5 needs about {needed / 2**30:,.1f} GiB of "
        f"memory for its weights and training plan, more than the {(needed - 1) / 2**30:,.1f} "
        "GiB here; use smaller sizes"
    )
    with pytest.raises(MnistbenchError, match="variant 'mlp' with its default sizes needs"):
        mlp.check_fits(mlp.hyperparameters(), 60000, 1000)


def test_sizes_in_the_refusal_are_in_gib_with_one_decimal():
    mlp = get_variant("mlp")
    hp = mlp.hyperparameters({"hidden": 200_000})
    # 16 bytes per weight and bias, 8 per sample index and per epoch's reference to the order
    needed = 16 * (784 * 200_000 + 200_000 + 200_000 * 10 + 10) + 8 * (60_000 + 20)
    assert needed == 2_544_480_320
    with pytest.raises(MnistbenchError) as error:
        mlp.check_fits(hp, 60_000, 3 * 2**29)
    assert "needs about 2.4 GiB of memory" in str(error.value)
    assert "more than the 1.5 GiB here" in str(error.value)


def test_an_unknown_variant_is_named_with_the_known_ones():
    with pytest.raises(MnistbenchError) as error:
        get_variant("cnn")
    assert str(error.value) == (f"unknown variant 'cnn' (known: {', '.join(sorted(VARIANTS))})")
