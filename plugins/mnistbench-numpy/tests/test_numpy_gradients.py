"""Every hand-written NumPy gradient of the SGD variants against central finite differences.

(``mnn`` and ``predictive_coding`` have their own checks in test_mnn.py and
test_predictive_coding.py.) Float64 throughout, on real MNIST images, at the variants' own
initial weights; entries are sampled from every weight matrix and bias.
"""

from __future__ import annotations

import numpy as np
import pytest

from mnistbench.data import datasets
from mnistbench.variants import get_variant
from mnistbench_numpy import dropout_mlp, mlp, sigmoid_mlp
from tests.gradients import assert_gradients_match

MODULES = {"mlp": mlp, "sigmoid_mlp": sigmoid_mlp, "dropout_mlp": dropout_mlp}


@pytest.fixture(scope="module")
def batch(sample_dir):
    data = datasets.load(sample_dir, train_limit=6)
    return data.train_images, data.train_labels.astype(np.int64)


def extras_for(variant: str, n: int, rng: np.random.Generator) -> dict:
    if variant != "dropout_mlp":
        return {}
    keep = 0.5
    return {"dropout_masks": ((rng.random((n, 40)) < keep) / keep).astype(np.float64)}


@pytest.mark.parametrize("variant", sorted(MODULES))
def test_numpy_gradients_match_central_finite_differences(variant, batch):
    images, labels = batch
    the_variant, module = get_variant(variant), MODULES[variant]
    hp = the_variant.hyperparameters()
    rng = np.random.default_rng(1)
    w = {k: v.astype(np.float64) for k, v in the_variant.initial_weights(rng, hp).items()}
    x = the_variant.prepare_inputs(images, hp).astype(np.float64)
    extras = extras_for(variant, len(x), rng)

    def loss(weights):
        return module.loss_and_gradients(weights, x, labels.copy(), hp, **extras)[0]

    _, grads = module.loss_and_gradients(w, x, labels.copy(), hp, **extras)
    assert_gradients_match(loss, grads, w, 6, rng)
