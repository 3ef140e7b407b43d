"""The evaluate step beyond its numbers (those are in test_evaluate_numbers.py): which device and
data it uses, what a diverged run gets, what it logs, and the one line for each bad input."""

from __future__ import annotations

import json
import logging
import os
import textwrap
import time

import numpy as np
import pytest
import threadpoolctl

from mnistbench.data import datasets
from mnistbench.data.shapes import Conventions
from mnistbench.errors import MnistbenchError
from mnistbench.evaluation import evaluate, predictions
from mnistbench.plugin.registry import load_backends
from mnistbench.training import weights_file
from mnistbench.variants import get_variant, reference
from tests import known
from tests.conftest import train_on_sample
from tests.distributions import install_distribution
from tests.synthetic import make


@pytest.fixture
def run(tmp_path):
    """(data folder, one known run's folder, its KnownRun)."""
    data, runs = known.write_results(tmp_path)
    return data, runs[0].directory, runs[0]


def edit_train_json(run_dir, **changes):
    info = json.loads((run_dir / "train.json").read_text())
    for key, value in changes.items():
        if value is None:
            del info[key]
        else:
            info[key] = value
    (run_dir / "train.json").write_text(json.dumps(info))


def test_a_train_record_missing_keys_is_named_with_what_it_lacks(run):
    data, run_dir, _ = run
    edit_train_json(run_dir, device=None, n_classes=None)
    with pytest.raises(MnistbenchError) as error:
        evaluate.run(data=data, run_dir=run_dir)
    assert str(error.value) == (
        f"{run_dir / 'train.json'}: not a train step's record (missing device, n_classes)"
    )


def test_the_training_backend_evaluates_on_the_device_that_trained(run):
    data, run_dir, _ = run
    edit_train_json(run_dir, device="cuda")
    with pytest.raises(MnistbenchError, match="backend 'numpy': device 'cuda' is not available"):
        evaluate.run(data=data, run_dir=run_dir)


def test_another_backend_evaluates_on_its_own_preferred_device(run, tmp_path):
    data, run_dir, known_run = run
    edit_train_json(run_dir, device="cuda")  # where it trained says nothing about torch here
    metrics = evaluate.run(data=data, run_dir=run_dir, backend="torch", out=tmp_path / "m.json")
    assert metrics["evaluated_by"] == "torch"
    torch = load_backends().get("torch")
    assert metrics["evaluation_device"] == evaluate.resolve_device(torch, "auto")
    assert metrics["test_accuracy"] == known_run.accuracy


def test_a_diverged_run_gets_metrics_saying_so_and_no_measurement(run, caplog):
    data, run_dir, _ = run
    edit_train_json(run_dir, status="diverged", diverged={"epoch": 2, "step": 5})
    (run_dir / "weights.npz").unlink()  # not needed: nothing is measured
    with caplog.at_level(logging.WARNING, logger="mnistbench.evaluation.evaluate"):
        metrics = evaluate.run(data=data, run_dir=run_dir)
    written = json.loads((run_dir / "metrics.json").read_text())
    assert written == metrics
    assert (metrics["status"], metrics["diverged"]) == ("diverged", {"epoch": 2, "step": 5})
    assert metrics["evaluated_by"] == "numpy"
    for key in ["test_accuracy", "confusion_matrix", "precision", "recall", "predict_seconds"]:
        assert key in metrics and metrics[key] is None, key
    assert metrics["evaluation_device"] is None and metrics["predict_samples_per_second"] is None
    assert caplog.messages == [f"{run_dir}: the run diverged; no accuracy to measure"]
    assert predictions.read(run_dir / predictions.PREDICTIONS).empty  # no image was predicted


def test_a_diverged_run_whose_record_lost_a_hyperparameter_is_scored_as_diverged(run):
    """An infinite learning rate is written to train.json as null: evaluate still says diverged."""
    data, run_dir, _ = run
    info = json.loads((run_dir / "train.json").read_text())
    hyperparameters = {**info["hyperparameters"], "lr": None}
    edit_train_json(run_dir, status="diverged", diverged={"epoch": 1, "step": 1})
    edit_train_json(run_dir, hyperparameters=hyperparameters)
    metrics = evaluate.run(data=data, run_dir=run_dir)
    assert (metrics["status"], metrics["test_accuracy"]) == ("diverged", None)


def test_the_test_set_is_read_as_the_run_read_it(tmp_path):
    """Images of 20 x 24 stored column-major, labels 1..5: the run records the offset and the
    transpose it trained with, and evaluation reads the test set the same way."""
    make(tmp_path / "data", "--size", "20", "24", "--classes", "5", "--label-offset", "1",
         "--transpose", train=100, test=100)  # fmt: skip
    from mnistbench.training import train as train_step

    read_as = Conventions(label_offset=1, transpose=True)
    info = train_step.run(
        data=tmp_path / "data",
        dataset="letters",
        variant="mlp",
        backend="numpy",
        seed=0,
        out=tmp_path / "run",
        hyperparameters={"epochs": 1},
        conventions=read_as,
    )
    assert (info["label_offset"], info["transpose"], info["n_classes"]) == (1, True, 5)
    evaluate.run(data=tmp_path / "data", run_dir=tmp_path / "run")
    written = predictions.read(tmp_path / "run" / predictions.PREDICTIONS)

    variant, numpy = get_variant("mlp"), load_backends().get("numpy")
    hp = variant.hyperparameters(info["hyperparameters"])
    weights = dict(np.load(tmp_path / "run" / "weights.npz"))

    def predicted(conventions: Conventions) -> list[int]:
        images = datasets.load(tmp_path / "data", conventions).test_images
        scores = numpy.predict("mlp", hp, weights, variant.prepare_inputs(images, hp), "cpu")
        return np.argmax(scores, axis=1).tolist()

    labels = datasets.load(tmp_path / "data", read_as).test_labels
    assert written["label"].tolist() == labels.tolist()
    assert written["predicted"].tolist() == predicted(read_as)
    assert predicted(Conventions(label_offset=1)) != predicted(read_as)  # orientation matters


def test_evaluation_takes_the_threads_it_is_given(run, monkeypatch):
    data, run_dir, _ = run
    monkeypatch.setenv("MNISTBENCH_THREADS", "2")  # restored after the test
    with threadpoolctl.threadpool_limits():  # restores the loaded pools' threads afterwards
        evaluate.run(data=data, run_dir=run_dir, threads=1)
        assert os.environ["MNISTBENCH_THREADS"] == "1"
        monkeypatch.setenv("MNISTBENCH_THREADS", "2")
        evaluate.run(data=data, run_dir=run_dir)  # None: the job keeps what it has
        assert os.environ["MNISTBENCH_THREADS"] == "2"


def test_the_log_says_the_test_accuracy_to_four_digits(run, caplog):
    data, run_dir, known_run = run
    with caplog.at_level(logging.INFO, logger="mnistbench.evaluation.evaluate"):
        evaluate.run(data=data, run_dir=run_dir)
    assert caplog.messages == [f"{run_dir}: test accuracy {known_run.accuracy:.4f}"]


def test_weights_with_nan_are_refused_naming_the_weight(run):
    data, run_dir, _ = run
    weights = known.weights(list(range(10)))
    weights["W2"][3, 4] = np.nan
    weights_file.save(run_dir, "weights.npz", weights)
    before = (run_dir / "metrics.json").read_bytes()
    with pytest.raises(MnistbenchError) as error:
        evaluate.run(data=data, run_dir=run_dir)
    assert str(error.value) == (
        f"{run_dir / 'weights.npz'}: weight 'W2' holds NaN or infinite values, though "
        "train.json records the run as ok; train the run again"
    )
    assert (run_dir / "metrics.json").read_bytes() == before  # the earlier metrics stay


def test_data_differing_from_its_pinned_digest_is_refused(run):
    data, run_dir, _ = run
    pinned = {"test_labels": "0" * 64}
    with pytest.raises(
        MnistbenchError, match="test_labels.idx: SHA-256 .* differs from the pinned"
    ):
        evaluate.run(data=data, run_dir=run_dir, sha256=pinned)


def test_labels_beyond_the_runs_classes_are_refused(run):
    data, run_dir, _ = run
    edit_train_json(run_dir, n_classes=9)  # the known labels go up to 9
    with pytest.raises(MnistbenchError, match=r"label 9 at index \d+ is outside 0..8"):
        evaluate.run(data=data, run_dir=run_dir)


def test_only_the_test_images_the_run_was_given_are_scored(run):
    data, run_dir, known_run = run
    edit_train_json(run_dir, test_samples=10)
    metrics = evaluate.run(data=data, run_dir=run_dir)
    first = known_run.pairs[:10]
    assert sum(map(sum, metrics["confusion_matrix"])) == 10
    assert metrics["test_accuracy"] == sum(t == p for t, p in first) / 10


def test_predict_time_is_within_the_time_the_step_took(run):
    data, run_dir, _ = run
    start = time.perf_counter()
    metrics = evaluate.run(data=data, run_dir=run_dir)
    assert 0 < metrics["predict_seconds"] < time.perf_counter() - start


@pytest.mark.parametrize("evaluator", ["numpy", "torch"])
def test_a_trained_mnn_run_scores_what_the_float64_arithmetic_predicts(
    evaluator, sample_dir, tmp_path
):
    """A variant whose prediction needs its hyperparameters (the ticks), by either backend."""
    run_dir = tmp_path / "results" / "mnist-sample" / "mnn" / "numpy" / "seed0"
    hp = {"hidden": 10, "ticks": 2, "batch_size": 16, "epochs": 1, "init_scale": 0.01}
    train_on_sample(sample_dir, run_dir, "mnn", hp, seed=0, train=256, test=200)
    out = tmp_path / f"{evaluator}.json"
    metrics = evaluate.run(data=sample_dir, run_dir=run_dir, backend=evaluator, out=out)
    data = datasets.load(sample_dir, test_limit=200)
    with np.load(run_dir / "weights.npz") as weights:
        x = data.test_images.reshape(200, -1) / 255
        scores = reference.predict("mnn", hp, dict(weights), (x - 0.1307) / 0.3081)
    expected = np.mean(scores.argmax(1) == data.test_labels)
    assert metrics["test_accuracy"] == pytest.approx(expected, abs=1 / 200)
    assert sum(map(sum, metrics["confusion_matrix"])) == 200


# --- backends that break their contract in predict ---------------------------------------------


BROKEN = textwrap.dedent(
    '''
    """Backends that test predict's contract: NumPy's arithmetic with one fault each, and one
    that predicts only on the device it was set up for."""
    import numpy as np
    from mnistbench import hookimpl
    from mnistbench_numpy import NumpyBackend

    MNISTBENCH_HOOK_VERSION = 2

    class Narrow(NumpyBackend):
        name = "narrow"
        def predict(self, *args):
            return super().predict(*args)[:, :9]

    class Nan(NumpyBackend):
        name = "nan"
        def predict(self, *args):
            scores = super().predict(*args)
            scores[0, 0] = np.nan
            return scores

    class Raising(NumpyBackend):
        name = "raising"
        def predict(self, *args):
            raise ValueError("matmul: shapes do not align\\nsecond line")

    class CpuOnly(NumpyBackend):
        name = "cpu_only"
        def predict(self, variant, hyperparameters, weights, x, device):
            if device != "cpu":
                raise ValueError(f"asked to predict on {device!r}")
            return super().predict(variant, hyperparameters, weights, x, device)

    @hookimpl
    def mnistbench_register_backends():
        return [Narrow(), Nan(), Raising(), CpuOnly()]
    '''
)


@pytest.fixture
def broken_backends(tmp_path, monkeypatch):
    """Installed as a third party's would be: a module and its entry point on sys.path."""
    site = tmp_path / "site"
    modules = {"mnistbench_broken": BROKEN}
    install_distribution(site, "mnistbench_broken", "broken = mnistbench_broken", modules)
    monkeypatch.syspath_prepend(str(site))


@pytest.mark.parametrize(
    "backend, message",
    [
        ("narrow", "backend 'narrow' predicted scores of shape (16, 9); expected (16, 10)"),
        ("nan", "backend 'nan' predicted NaN or infinite scores from the finite weights in {w}"),
        ("raising", "backend 'raising' failed in predict: ValueError: matmul: shapes do not align"),
    ],
)
def test_a_backend_predicting_wrongly_is_one_line_and_writes_nothing(
    broken_backends, run, tmp_path, backend, message
):
    data, run_dir, _ = run
    out = tmp_path / "by" / backend / "metrics.json"
    with pytest.raises(MnistbenchError) as error:
        evaluate.run(data=data, run_dir=run_dir, backend=backend, out=out)
    assert str(error.value).startswith(message.format(w=run_dir / "weights.npz"))
    assert "\n" not in str(error.value)
    assert not (tmp_path / "by").exists()


def test_predict_is_asked_for_the_device_the_run_resolved(broken_backends, run, tmp_path):
    data, run_dir, _ = run
    out = tmp_path / "cpu_only" / "metrics.json"
    evaluate.run(data=data, run_dir=run_dir, backend="cpu_only", out=out)
    metrics = json.loads(out.read_text())
    assert metrics["device"] == "cpu" and metrics["test_samples"] > 0
