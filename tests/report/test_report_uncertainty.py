"""The report's intervals and paired tests, read back from its HTML and CSV tables.

Runs are real: NumPy and PyTorch train mlp on the MNIST sample (600 training and 300 test
images, one epoch, seeds 0 and 1), the evaluate step keeps their predictions, and the real
aggregate and report steps run.
"""

from __future__ import annotations

import io
import json
import shutil
from html import unescape

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from mnistbench.cli import main
from mnistbench.evaluation import predictions
from mnistbench.report import render, uncertainty
from mnistbench.report import statistics as st

SEEDS = (0, 1)
DIFFERENCE = uncertainty.DIFFERENCE.format("numpy")


@pytest.fixture(scope="module")
def trained(sample_dir, tmp_path_factory):
    """A results folder of 4 runs, aggregated."""
    root = tmp_path_factory.mktemp("uncertainty")
    metrics = []
    for backend in ("numpy", "torch"):
        for seed in SEEDS:
            run = root / "mnist" / "mlp" / backend / f"seed{seed}"
            args = ["train", "--dataset", "mnist", "--variant", "mlp", "--backend", backend]
            args += ["--seed", str(seed), "--data", str(sample_dir), "--out", str(run)]
            args += ["--train-limit", "600", "--test-limit", "300"]
            assert main([*args, "--hparams", json.dumps({"epochs": 2})]) == 0
            assert main(["evaluate", "--data", str(sample_dir), "--run", str(run)]) == 0
            metrics.append(str(run / "metrics.json"))
    assert main(["aggregate", *metrics, "--out", str(root)]) == 0
    return root


# Function scope: mutmut credits a fixture's work to the first test that used it only.
@pytest.fixture
def results(trained):
    """The 4 runs' folder with the report and its CSV tables, written for each test."""
    report = ["report", "--tables", str(trained), "--out", str(trained / "report.html")]
    assert main([*report, "--csv-dir", str(trained / "report")]) == 0
    return trained


def kept(results, backend, seed) -> pd.DataFrame:
    return predictions.read(results / "mnist" / "mlp" / backend / f"seed{seed}" / "predictions.csv")


def test_each_run_keeps_its_predictions_beside_its_metrics_and_the_summary_names_them(results):
    summary = pd.read_csv(results / "summary.csv")
    assert summary["predictions"].tolist() == [
        f"mnist/mlp/{b}/seed{s}/predictions.csv" for b in ("numpy", "torch") for s in SEEDS
    ]
    for _, run in summary.iterrows():
        table = pd.read_csv(results / run["predictions"])
        assert list(table.columns) == ["label", "predicted"] and len(table) == 300
        assert (table["label"] == table["predicted"]).mean() == pytest.approx(run.test_accuracy)
        assert np.loadtxt(results / run["predictions"], delimiter=",", skiprows=1).shape == (
            300,
            2,
        )


def test_the_accuracy_csv_gives_each_mean_its_interval_and_method(results):
    summary = pd.read_csv(results / "summary.csv")
    accuracy = pd.read_csv(results / "report" / "accuracy.csv").set_index("backend")
    for backend, runs in summary.groupby("backend"):
        values = runs["test_accuracy"]
        row = accuracy.loc[backend]
        found = (row["test accuracy, 95% interval, low"], row["test accuracy, 95% interval, high"])
        if values.nunique() > 1:
            t = stats.t.interval(0.95, len(values) - 1, values.mean(), stats.sem(values))
            assert found == pytest.approx(t) and row["interval"] == st.T_METHOD
        else:  # the seeds agree: Wilson's interval on the 300 test images
            ci = stats.binomtest(round(values.iloc[0] * 300), 300).proportion_ci(method="wilson")
            assert found == pytest.approx((ci.low, ci.high))
            assert row["interval"] == st.WILSON_SAME_METHOD


def test_the_differences_csv_pairs_each_seed_with_the_baselines_and_pools_them(results):
    differences = pd.read_csv(results / "report" / "differences.csv")
    assert differences["backend"].tolist() == ["torch"]
    row = differences.iloc[0]
    only_torch = only_numpy = 0
    for seed in SEEDS:
        numpy_right, torch_right = (
            kept(results, "numpy", seed)["correct"],
            kept(results, "torch", seed)["correct"],
        )
        only_torch += int((torch_right & ~numpy_right).sum())
        only_numpy += int((numpy_right & ~torch_right).sum())
    assert (row["right where numpy is wrong"], row["wrong where numpy is right"]) == (
        only_torch,
        only_numpy,
    )
    assert (row["seeds paired"], row["images compared (all seeds)"]) == (2, 600)
    discordant = only_torch + only_numpy
    p = stats.binomtest(only_torch, discordant).pvalue if discordant else 1.0
    assert row[uncertainty.P_MCNEMAR] == pytest.approx(p)
    assert row[DIFFERENCE] == pytest.approx((only_torch - only_numpy) / 600)
    # one test: Benjamini-Hochberg leaves its p as it is
    assert row[uncertainty.Q_BH] == pytest.approx(p)
    expected = uncertainty.NOT_SIGNIFICANT if p > 0.05 else "accurate than numpy"
    assert expected in row["reading"]


def test_the_page_shows_the_intervals_the_tests_and_how_they_were_made(results):
    html = (results / "report.html").read_text()
    tables = pd.read_html(io.StringIO(html))
    accuracy = next(t for t in tables if "interval" in t.columns)  # one click below
    assert set(accuracy["interval"]) <= {st.T_METHOD, st.WILSON_SAME_METHOD}
    differences = next(t for t in tables if uncertainty.Q_BH in t.columns)
    assert differences["backend"].tolist() == ["torch"]
    assert differences["reading"].tolist() != [uncertainty.NO_PREDICTIONS]  # tested, paired
    assert any(uncertainty.P_MCNEMAR in t.columns for t in tables)
    speed = next(t for t in tables if "train speed-up reading" in t.columns)
    torch = speed.set_index("backend").loc["torch"]
    assert torch["train speed-up reading"] in {"faster", "slower", uncertainty.NO_DIFFERENCE}
    assert speed.set_index("backend").loc["numpy", "train speed-up reading"] == "the baseline"
    for said in (st.MCNEMAR_METHOD, st.BH_METHOD, st.TWO_STAGE_METHOD, st.BOOTSTRAP_METHOD):
        assert said in unescape(html).replace("\n", " ")


def test_the_speed_csv_gives_each_speed_up_an_interval_holding_it(results):
    speed = pd.read_csv(results / "report" / "speed.csv").set_index("backend")
    torch = speed.loc["torch"]
    low, high = (
        torch["train speed-up 95% interval, low (×)"],
        torch["train speed-up 95% interval, high (×)"],
    )
    assert low <= torch["training speed-up over numpy (×, ratio of medians)"] <= high
    reading = "faster" if low > 1 else "slower" if high < 1 else uncertainty.NO_DIFFERENCE
    assert torch["train speed-up reading"] == reading


def test_each_speed_up_is_followed_by_its_interval_and_reading(results):
    columns = list(pd.read_csv(results / "report" / "speed.csv").columns)
    train = columns.index("training speed-up over numpy (×, ratio of medians)")
    assert columns[train + 1 : train + 4] == [
        "train speed-up 95% interval, low (×)",
        "train speed-up 95% interval, high (×)",
        "train speed-up reading",
    ]
    predict = columns.index("predict speed-up over numpy (×, ratio of medians)")
    assert columns[predict + 1].startswith("predict speed-up 95% interval, low")
    assert columns[predict + 3] == "predict speed-up reading"


def test_without_the_tables_folder_no_difference_is_tested(results, monkeypatch):
    monkeypatch.chdir(results)  # where the summary's relative prediction paths would resolve
    found = render.read_tables(results)
    differences = render.derived_tables(found, render.Settings())["differences"]
    assert differences["reading"].tolist() == [uncertainty.NO_PREDICTIONS]
    tested = render.derived_tables(found, render.Settings(), results)["differences"]
    assert tested["reading"].tolist() != [uncertainty.NO_PREDICTIONS]


def test_a_difference_is_read_as_significant_at_the_false_discovery_rate_asked(trained, tmp_path):
    folder = tmp_path / "results"
    shutil.copytree(trained, folder)
    for seed in SEEDS:  # torch right on every image: more accurate than numpy's runs
        path = folder / "mnist" / "mlp" / "torch" / f"seed{seed}" / "predictions.csv"
        right = pd.read_csv(path).assign(predicted=lambda t: t["label"])
        right.to_csv(path, index=False)
    found = render.read_tables(folder)

    def reading(alpha: float) -> str:
        settings = render.Settings(alpha=alpha)
        [said] = render.derived_tables(found, settings, folder)["differences"]["reading"]
        return said

    assert reading(1.0) == "more accurate than numpy"
    assert reading(0.0) == uncertainty.NOT_SIGNIFICANT  # no q-value is at or under 0


def test_tables_from_before_predictions_were_kept_say_so_and_still_report(results, tmp_path):
    for name in ("summary", "confusion", "history", "provenance"):
        table = pd.read_csv(results / f"{name}.csv")
        table.drop(columns="predictions", errors="ignore").to_csv(
            tmp_path / f"{name}.csv", index=False
        )
    out = tmp_path / "report.html"
    assert main(["report", "--tables", str(tmp_path), "--out", str(out)]) == 0
    differences = next(
        t for t in pd.read_html(io.StringIO(out.read_text())) if "reading" in t.columns
    )
    assert differences["reading"].tolist() == [uncertainty.NO_PREDICTIONS]


def test_one_seed_makes_no_speed_verdict_and_shows_no_interval():
    from tests import known

    ok = known.summary().query("status == 'ok'")
    keys = ["dataset", "variant", "backend", "point", "device"]
    one = ok[ok["seed"] == 0].assign(point="default")
    history = known.history().assign(point="default")
    speed = uncertainty.speed_intervals(one, history, "numpy", keys).set_index("backend")
    assert speed.loc["torch", "train speed-up reading"] == st.ONE_RUN
    assert speed.loc["torch", "predict speed-up reading"] == st.ONE_RUN
    assert speed.loc["torch", uncertainty.SPEED_COLUMNS[:2]].isna().all()
    both = uncertainty.speed_intervals(ok.assign(point="default"), history, "numpy", keys)
    assert st.ONE_RUN not in set(both["train speed-up reading"])
