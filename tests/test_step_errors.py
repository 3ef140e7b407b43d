"""Train and evaluate on bad input: one line naming the file or key, exit 1, nothing written.

Each case runs the real command in a workspace laid out as the workflow's (``resources/``,
``results/``, ``logs/``), with the step's ``--log`` as Snakemake passes it, and compares the
whole tree before and after: the only change allowed is the job's log, whose last line must be
the error line the user sees.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import pytest

from mnistbench.data import datasets
from mnistbench.training import provenance
from mnistbench.variants import get_variant
from tests.cli import error_line, run_cli, tree, unprivileged
from tests.conftest import REPO, SAMPLE_FILES
from tests.distributions import install_distribution

RUN = "results/mnist/mlp/numpy/seed0"
PINNED = [
    arg for role, spec in SAMPLE_FILES.items() for arg in ("--sha256", f"{role}={spec['sha256']}")
]
LIMITS = ["--train-limit", "300", "--test-limit", "200"]
FAULTY_SITE = REPO / "tests" / "plugins" / "site"


def train_args(root: Path, *extra: str, variant="mlp", backend="numpy", out=RUN) -> list[str]:
    return [
        "--log", str(root / "logs" / "train.log"), "train",
        "--data", str(root / "resources" / "mnist"), "--dataset", "mnist",
        "--variant", variant, "--backend", backend, "--seed", "0",
        "--out", str(root / out), *LIMITS, *PINNED, *extra,
    ]  # fmt: skip


def evaluate_args(root: Path, *extra: str) -> list[str]:
    return [
        "--log", str(root / "logs" / "evaluate.log"), "evaluate",
        "--data", str(root / "resources" / "mnist"), "--run", str(root / RUN), *PINNED, *extra,
    ]  # fmt: skip


@pytest.fixture
def workspace(tmp_path, sample_dir) -> Path:
    """resources/mnist holding the verified sample, and an empty logs/."""
    shutil.copytree(sample_dir, tmp_path / "resources" / "mnist")
    (tmp_path / "logs").mkdir()
    return tmp_path


@pytest.fixture(scope="module")
def trained(tmp_path_factory, sample_dir) -> Path:
    """A workspace with one trained run (mlp, numpy, one epoch) and no metrics yet."""
    root = tmp_path_factory.mktemp("trained")
    shutil.copytree(sample_dir, root / "resources" / "mnist")
    (root / "logs").mkdir()
    result = run_cli(*train_args(root, "--hparams", '{"epochs": 1}'))
    assert result.returncode == 0, result.stderr
    return root


@pytest.fixture
def evaluated(trained, tmp_path) -> Path:
    """A private copy of the trained workspace, for one evaluate case to damage."""
    shutil.copytree(trained, tmp_path / "ws")
    return tmp_path / "ws"


def check_refused(root: Path, before: dict, args: list[str], step: str, **kwargs) -> str:
    """Run the step; check exit 1, one error line, that line last in its log, nothing else
    written anywhere under ``root``; return the line."""
    result = run_cli(*args, **kwargs)
    assert result.returncode == 1, result.stderr
    line = error_line(result, step)
    log = f"logs/{step}.log"
    after = tree(root)
    assert after.pop(log).decode().splitlines()[-1] == line
    before.pop(log, None)
    assert after == before
    return line


# Train ---------------------------------------------------------------------------------------


def flip_a_label(path: Path) -> str:
    """Change one label (still a valid file); return the file's new digest."""
    data = bytearray(path.read_bytes())
    data[8] = (data[8] + 1) % 10
    path.write_bytes(data)
    return hashlib.sha256(data).hexdigest()


def assert_refuses_a_changed_test_file(root: Path, args: list[str], step: str) -> None:
    """``step`` run with ``args`` in ``root`` refuses the test labels changed after their fetch,
    naming the file, both digests and what to do, and writes nothing."""
    path = datasets.role_path(root / "resources" / "mnist", "test_labels")
    actual = flip_a_label(path)
    pinned = SAMPLE_FILES["test_labels"]["sha256"]
    assert check_refused(root, tree(root), args, step) == (
        f"mnistbench {step}: error: {path}: SHA-256 {actual} differs from the pinned {pinned}: "
        "the file changed after it was fetched; delete it and run again to fetch it afresh"
    )


def test_train_refuses_a_data_file_changed_after_its_fetch(workspace):
    assert_refuses_a_changed_test_file(workspace, train_args(workspace), "train")


def test_train_refuses_a_read_only_output_folder_before_reading_data_or_training(sample_dir):
    prefix = unprivileged()
    # Under /tmp, not pytest's 0700 folder, so an unprivileged user can read the data.
    root = Path(tempfile.mkdtemp(prefix="mnistbench-readonly-"))
    try:
        shutil.copytree(sample_dir, root / "resources" / "mnist")
        (root / "logs").mkdir()
        (root / "results").mkdir()
        for folder in (root, root / "logs"):
            folder.chmod(0o777)
        (root / "results").chmod(0o555)
        before = tree(root)
        line = check_refused(root, before, train_args(root), "train", prefix=prefix)
        assert line == (
            f"mnistbench train: error: {root / RUN}: cannot write to this output folder "
            "(Permission denied); make it writable or choose another output folder"
        )
        assert "training mlp" not in (root / "logs" / "train.log").read_text()
    finally:
        (root / "results").chmod(0o755)
        shutil.rmtree(root)


def test_train_refuses_hidden_1e9_as_not_an_integer(workspace):
    line = check_refused(
        workspace, tree(workspace), train_args(workspace, "--hparams", '{"hidden": 1e9}'), "train"
    )
    assert line == (
        "mnistbench train: error: variant 'mlp': hyperparameter 'hidden' must be an integer "
        "above 0, got 1000000000.0"
    )


def test_train_refuses_a_size_that_cannot_fit_in_memory_before_allocating(workspace):
    hidden = 10**9  # (784 + 10) x 1e9 float32 weights: about 3 TB, four times over
    variant = get_variant("mlp")
    hp = variant.hyperparameters({"hidden": hidden})
    needed, here = variant.memory_bytes(hp, 300), provenance.memory_limit_bytes()
    args = train_args(workspace, "--hparams", json.dumps({"hidden": hidden}))
    line = check_refused(workspace, tree(workspace), args, "train")
    assert line == (
        f"mnistbench train: error: variant 'mlp' with hidden={hidden} needs about "
        f"{needed / 2**30:,.1f} GiB of memory for its weights and training plan, more than the "
        f"{here / 2**30:,.1f} GiB here; use smaller sizes"
    )


def test_a_backend_raising_in_its_setup_is_one_line_naming_it_with_the_traceback_in_the_log(
    workspace,
):
    args = train_args(workspace, variant="dropout_mlp", backend="faulty", out=RUN + "-faulty")
    line = check_refused(
        workspace, tree(workspace), args, "train", env={"PYTHONPATH": str(FAULTY_SITE)}
    )
    assert line == (
        "mnistbench train: error: backend 'faulty' failed in setup: "
        "RuntimeError: dropout masks of the wrong shape"
    )
    log = (workspace / "logs" / "train.log").read_text()
    assert "Traceback" in log and 'mnistbench_faulty.py", line' in log


BLIND = """
    from mnistbench import hookimpl
    from mnistbench_numpy import NumpyBackend

    MNISTBENCH_HOOK_VERSION = 2

    class Blind(NumpyBackend):
        name = "blind"

        def predict(self, variant, hyperparameters, weights, x, device):
            raise ValueError("no scores today")

    @hookimpl
    def mnistbench_register_backends():
        return [Blind()]
"""


def test_a_backend_raising_inside_predict_is_one_line_naming_it(workspace, tmp_path_factory):
    site = tmp_path_factory.mktemp("site")
    install_distribution(
        site, "mnistbench_blind", "blind = blind_backend", {"blind_backend": BLIND}
    )
    args = train_args(workspace, "--hparams", '{"epochs": 1}', backend="blind", out=RUN + "-b")
    line = check_refused(workspace, tree(workspace), args, "train", env={"PYTHONPATH": str(site)})
    assert line == (
        "mnistbench train: error: backend 'blind' failed in predict: ValueError: no scores today"
    )


# Evaluate ------------------------------------------------------------------------------------


def weights_of(root: Path) -> Path:
    return root / RUN / "weights.npz"


def rewrite_weights(root: Path, change) -> Path:
    """Save the run's weights again after ``change(dict)``, as another program might have."""
    path = weights_of(root)
    with np.load(path) as archive:
        weights = {k: archive[k] for k in archive.files}
    change(weights)
    with path.open("wb") as f:
        np.savez(f, **weights)
    return path


def truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def flip_a_bit_of_w1(path: Path) -> None:
    with zipfile.ZipFile(path) as archive:
        member = archive.getinfo("W1.npy")
    data = bytearray(path.read_bytes())
    data[member.header_offset + 30 + len(member.filename) + 200] ^= 0x01  # inside W1's values
    path.write_bytes(data)


@pytest.mark.parametrize(
    "damage, why",
    [
        (truncate, "BadZipFile: File is not a zip file"),
        (flip_a_bit_of_w1, "BadZipFile: Bad CRC-32 for file 'W1.npy'"),
    ],
    ids=["truncated", "crc_fails"],
)
def test_evaluate_refuses_a_damaged_weights_file(evaluated, damage, why):
    path = weights_of(evaluated)
    damage(path)
    line = check_refused(evaluated, tree(evaluated), evaluate_args(evaluated), "evaluate")
    assert line == (
        f"mnistbench evaluate: error: {path}: the weights archive is damaged or truncated "
        f"({why}); train the run again"
    )


def test_evaluate_refuses_random_bytes_without_mentioning_pickles(evaluated):
    path = weights_of(evaluated)
    noise = np.random.default_rng(0).bytes(4096)
    path.write_bytes(noise)
    line = check_refused(evaluated, tree(evaluated), evaluate_args(evaluated), "evaluate")
    assert line == (
        f"mnistbench evaluate: error: {path}: not a weights file (an .npz archive starts with "
        f"'PK', this one with 0x{noise[:4].hex()}); train the run again"
    )
    assert "pickle" not in line


def test_evaluate_refuses_weights_missing_a_key(evaluated):
    path = rewrite_weights(evaluated, lambda w: w.pop("b2"))
    line = check_refused(evaluated, tree(evaluated), evaluate_args(evaluated), "evaluate")
    assert line == (
        f"mnistbench evaluate: error: {path}: weight 'b2' missing (the archive holds W1, W2, b1); "
        "train the run again"
    )


def test_evaluate_refuses_a_weight_of_the_wrong_shape(evaluated):
    path = rewrite_weights(evaluated, lambda w: w.update(W1=w["W1"][:, :30]))
    line = check_refused(evaluated, tree(evaluated), evaluate_args(evaluated), "evaluate")
    assert line == (
        f"mnistbench evaluate: error: {path}: weight 'W1' has shape (784, 30), the run's variant "
        "and hyperparameters need (784, 300); train the run again"
    )


def test_evaluate_refuses_a_test_file_changed_after_its_fetch(evaluated):
    assert_refuses_a_changed_test_file(evaluated, evaluate_args(evaluated), "evaluate")


def test_evaluate_of_an_intact_run_writes_only_its_metrics_and_predictions(evaluated):
    before = tree(evaluated)
    result = run_cli(*evaluate_args(evaluated))
    assert result.returncode == 0, result.stderr
    added = set(tree(evaluated)) - set(before)
    assert added == {f"{RUN}/metrics.json", f"{RUN}/predictions.csv", "logs/evaluate.log"}
