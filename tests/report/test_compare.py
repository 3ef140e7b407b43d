"""``mnistbench compare``: what changed between two result folders, run by run."""

from __future__ import annotations

import json
import shutil

import pandas as pd
import pytest

from mnistbench.cli import main
from mnistbench.report import compare
from tests import known
from tests.cli import error_line, run_cli

RUNS = [(variant, seed) for variant in ("mlp", "sigmoid_mlp") for seed in (0, 1)]
SMALL = {"mlp": {"epochs": 1}, "sigmoid_mlp": {"iterations": 60, "log_every": 20}}


def train_and_evaluate(data, results, variant, seed, hyperparameters):
    run = results / "mnist" / variant / "numpy" / f"seed{seed}"
    limits = ["--train-limit", "600", "--test-limit", "300"]
    args = ["train", "--dataset", "mnist", "--variant", variant, "--backend", "numpy"]
    args += ["--seed", str(seed), "--data", str(data), "--out", str(run), *limits]
    assert main([*args, "--hparams", json.dumps(hyperparameters)]) == 0
    assert main(["evaluate", "--data", str(data), "--run", str(run)]) == 0
    return run / "metrics.json"


@pytest.fixture(scope="module")
def before_and_after(sample_dir, tmp_path_factory):
    """Two result folders as the workflow leaves them when mlp's learning rate changes.

    ``after`` re-trains the mlp runs with lr 0.02; the sigmoid_mlp runs are the same files, as
    Snakemake keeps the runs a change does not touch.
    """
    root = tmp_path_factory.mktemp("compare")
    before, after = root / "before", root / "after"
    metrics = [train_and_evaluate(sample_dir, before, v, s, SMALL[v]) for v, s in RUNS]
    assert main(["aggregate", *map(str, metrics), "--out", str(before)]) == 0
    shutil.copytree(before / "mnist" / "sigmoid_mlp", after / "mnist" / "sigmoid_mlp")
    changed = {**SMALL["mlp"], "lr": 0.02}
    for seed in (0, 1):
        train_and_evaluate(sample_dir, after, "mlp", seed, changed)
    metrics = [after / "mnist" / v / "numpy" / f"seed{s}" / "metrics.json" for v, s in RUNS]
    assert main(["aggregate", *map(str, metrics), "--out", str(after)]) == 0
    return before, after


def test_a_changed_hyperparameter_flags_exactly_the_runs_it_changed(before_and_after):
    changes = compare.compare(*before_and_after)
    flagged = changes[changes["flagged"] != ""]
    assert sorted(zip(flagged["variant"], flagged["seed"])) == [("mlp", 0), ("mlp", 1)]
    assert all("lr 0.1 → 0.02" in why for why in flagged["flagged"])


def test_the_table_on_stdout_and_the_html_page_show_the_flagged_runs(
    before_and_after, tmp_path, capsys
):
    page = tmp_path / "compare.html"
    assert main(["compare", *map(str, before_and_after), "--html", str(page)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:3] == ["run", "before", "after"]
    flagged = sorted(line.split()[0] for line in lines[1:] if compare.FLAG in line)
    assert flagged == ["mnist/mlp/numpy/default/0", "mnist/mlp/numpy/default/1"]
    runs = len(pd.read_csv(before_and_after[0] / "summary.csv"))
    assert any(line.startswith(f"2 of {runs} runs flagged") for line in lines)
    html = page.read_text()
    assert html.count('<td class="flag">') == 2 and '<meta name="viewport"' in html


def test_a_slower_run_is_flagged_beyond_the_time_threshold_only(tmp_path):
    before = known.write(tmp_path / "before")
    summary = known.summary()
    slower = (summary["backend"] == "torch") & (summary["seed"] == 1)
    summary.loc[slower, "train_seconds"] *= 2
    after = tmp_path / "after"
    shutil.copytree(before, after)
    summary.to_csv(after / "summary.csv", index=False)
    changes = compare.compare(before, after, time_threshold=1.5).set_index(["backend", "seed"])
    assert changes.loc[("torch", 1), compare.TRAIN_RATIO] == pytest.approx(2.0)
    assert changes.loc[("torch", 1), "flagged"] == (
        f"{compare.FLAG} train slower 2.00× (too few repeats to tell, 1 and 1 epochs: "
        "threshold only)"
    )
    assert (changes.drop(index=("torch", 1))["flagged"] == "").all()
    relaxed = compare.compare(before, after, time_threshold=3)
    assert (relaxed["flagged"] == "").all()


def test_a_run_in_one_folder_only_is_flagged(tmp_path):
    before = known.write(tmp_path / "before")
    after = tmp_path / "after"
    shutil.copytree(before, after)
    summary = pd.read_csv(before / "summary.csv")
    summary[summary["seed"] == 0].to_csv(after / "summary.csv", index=False)
    flags = compare.compare(before, after).set_index(["backend", "seed"])["flagged"]
    assert flags[("torch", 1)] == f"{compare.FLAG} only before"
    assert flags[("torch", 0)] == ""


def test_a_folder_without_results_is_one_line_and_exit_1(tmp_path):
    before = known.write(tmp_path / "before")
    result = run_cli("compare", str(before), str(tmp_path / "nothing"))
    assert result.returncode == 1
    assert error_line(result, "compare") == (
        f"mnistbench compare: error: {tmp_path / 'nothing'}: not a results folder "
        "(no summary.csv in it)"
    )
