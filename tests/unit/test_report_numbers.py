"""The numbers on the report page, read back from its HTML and checked against known runs.

The runs come from :mod:`tests.known` (predictions and train figures chosen beforehand). Every
value is found by its labels, not its position: a table by the column headers it has, a row by
the values of its label columns (dataset, variant, backend, seed), a column by words of its
header, a confusion matrix by the run named in the heading or caption next to it. A change of
layout leaves these tests working; a wrong number does not.
"""

from __future__ import annotations

import datetime
import io
import re
import statistics

import lxml.html
import pandas as pd
import pytest

from mnistbench import aggregate, report
from tests import known

# --- reading the page by labels ----------------------------------------------------------------


def page_tables(html: str) -> list[tuple[str, pd.DataFrame]]:
    """Every table of the page with its label: its caption and the nearest heading before it."""
    tree = lxml.html.fromstring(html)
    tables = []
    for element in tree.iter("table"):
        heading = element.xpath("preceding::*[self::h1 or self::h2 or self::h3 or self::h4][1]")
        label = " ".join(
            [heading[0].text_content() if heading else "", *element.xpath("caption//text()")]
        )
        [frame] = pd.read_html(io.StringIO(lxml.html.tostring(element, encoding="unicode")))
        tables.append((label, frame))
    return tables


def flat_columns(frame: pd.DataFrame) -> pd.DataFrame:
    if isinstance(frame.columns, pd.MultiIndex):
        frame = frame.copy()
        frame.columns = [
            " ".join(str(p) for p in c if not str(p).startswith("Unnamed")) for c in frame.columns
        ]
    return frame


def table_with(html: str, *headers: str, keys: tuple[str, ...] = ()) -> pd.DataFrame:
    """The one table with a column header containing each of ``headers`` and a column named
    exactly each of ``keys`` (the label columns: dataset, variant, backend, seed)."""
    found = []
    for _, frame in page_tables(html):
        frame = flat_columns(frame)
        columns = [str(c) for c in frame.columns]
        if all(any(h in c for c in columns) for h in headers) and set(keys) <= set(columns):
            found.append(frame)
    assert len(found) == 1, f"{len(found)} tables have columns {headers} and {keys}"
    return found[0]


def cell(frame: pd.DataFrame, column: str, **labels):
    """The value in the column headed ``column`` (or, if none, whose header contains it), on the
    row with ``labels``."""
    exact = [c for c in frame.columns if str(c) == column]
    [name] = exact or [c for c in frame.columns if column in str(c)]
    rows = frame
    for key, value in labels.items():
        rows = rows[rows[key].astype(str) == str(value)]
    assert len(rows) == 1, f"{len(rows)} rows with {labels}"
    return rows[name].iloc[0]


def number(text) -> float:
    """A number as the page shows it: thousands separators allowed."""
    return float(str(text).replace(",", ""))


def mean_and_sd(text) -> tuple[float, float | None]:
    """``"0.6250 ± 0.1768"`` -> (0.625, 0.1768); ``"0.7500"`` -> (0.75, None)."""
    match = re.fullmatch(r"\s*([-\d.]+)(?:\s*±\s*([-\d.]+))?\s*", str(text))
    assert match, f"not a mean ± sd: {text!r}"
    return float(match[1]), None if match[2] is None else float(match[2])


def confusion_of(html: str, seed: int) -> dict[tuple[int, int], int]:
    """The confusion matrix shown for ``seed``'s run, as {(true, predicted): count}.

    The table must say that rows are true classes (its axis names, or its caption).
    """
    found = []
    for label, frame in page_tables(html):
        if (
            not re.search(rf"\bseed {seed}\b", label)
            or "predicted" not in frame.to_string() + label
        ):
            continue
        found.append((label, frame))
    assert len(found) == 1, f"{len(found)} confusion tables for seed {seed}"
    label, frame = found[0]
    header = [
        tuple(str(p) for p in c) if isinstance(c, tuple) else (str(c),) for c in frame.columns
    ]
    rows_are_true = header[0][:2] == ("predicted", "true") or "rows: true class" in label
    assert rows_are_true, f"cannot tell which axis is the true class: {label!r} {header[0]}"
    counts = {}
    for _, row in frame.iterrows():
        true = int(row.iloc[0])
        for (predicted, *_), value in zip(header[1:], row.iloc[1:]):
            counts[(true, int(predicted))] = int(value)
    return counts


# --- the known runs, aggregated and reported ---------------------------------------------------

# Predict times are measured, so too short to show; the report's input gets chosen ones.
PREDICT_SECONDS = {0: 0.25, 1: 0.75}


# Function scope: mutmut credits a fixture's work to the first test that used it only
# (bench/mutation.py); a report takes about 0.2 s.
@pytest.fixture
def known_report(tmp_path):
    """(html, runs): the report of the two known runs, with chosen predict times."""
    root = tmp_path
    _, runs = known.write_results(root)
    tables = root / "tables"
    aggregate.run([run.directory / "metrics.json" for run in runs.values()], tables)
    summary = pd.read_csv(tables / "summary.csv")
    summary["predict_seconds"] = summary["seed"].map(PREDICT_SECONDS)
    summary.to_csv(tables / "summary.csv", index=False)
    return report.render(tables), runs


RUN = {"dataset": known.DATASET, "variant": "mlp"}


def test_accuracy_is_the_mean_and_sample_sd_over_seeds(known_report):
    html, runs = known_report
    table = table_with(html, "variant", "numpy")
    mean, sd = mean_and_sd(cell(table, "numpy", **RUN))
    accuracies = [run.accuracy for run in runs.values()]
    assert mean == pytest.approx(statistics.mean(accuracies), abs=5e-5)
    assert sd == pytest.approx(statistics.stdev(accuracies), abs=5e-5)  # n - 1: 0.1768


def test_one_seed_shows_its_accuracy_without_a_spread(tmp_path):
    _, runs = known.write_results(tmp_path)
    aggregate.run([runs[0].directory / "metrics.json"], tmp_path / "tables")
    table = table_with(report.render(tmp_path / "tables"), "variant", "numpy")
    assert mean_and_sd(cell(table, "numpy", **RUN)) == (pytest.approx(runs[0].accuracy), None)


@pytest.mark.parametrize("seed", sorted(known.SEEDS))
def test_each_runs_row_shows_its_accuracy_loss_times_throughput_and_memory(known_report, seed):
    html, runs = known_report
    run, table = runs[seed], table_with(html, "test accuracy", keys=("seed",))
    row = {**RUN, "backend": "numpy", "seed": seed}
    assert number(cell(table, "test accuracy", **row)) == pytest.approx(run.accuracy, abs=5e-5)
    assert number(cell(table, "loss", **row)) == pytest.approx(run.final_train_loss, abs=5e-5)
    assert number(cell(table, "epochs", **row)) == known.EPOCHS
    assert number(cell(table, "train time", **row)) == pytest.approx(run.train_seconds, abs=5e-3)
    throughput = number(cell(table, "throughput", **row))
    assert throughput == pytest.approx(run.samples_per_second, abs=0.5)
    predict = number(cell(table, "predict time", **row))
    assert predict == pytest.approx(PREDICT_SECONDS[seed], abs=5e-3)
    assert number(cell(table, "memory", **row)) == pytest.approx(run.peak_rss_mb, abs=5e-3)
    wall = number(cell(table, "wall time", **row))
    assert wall == pytest.approx(run.job_wall_seconds, abs=5e-3)


def test_speed_table_shows_means_over_seeds(known_report):
    html, runs = known_report
    table = table_with(html, "time per epoch", "throughput")
    row = {**RUN, "backend": "numpy"}

    def mean(values):
        return statistics.mean(values)

    assert number(cell(table, "runs", **row)) == len(runs)
    train = mean(r.train_seconds for r in runs.values())
    assert number(cell(table, "train time", **row)) == pytest.approx(train, abs=5e-3)
    per_epoch = mean(r.train_seconds / known.EPOCHS for r in runs.values())
    assert number(cell(table, "time per epoch", **row)) == pytest.approx(per_epoch, abs=5e-3)
    throughput = mean(r.samples_per_second for r in runs.values())
    assert number(cell(table, "throughput", **row)) == pytest.approx(throughput, abs=0.5)
    predict = mean(PREDICT_SECONDS.values())
    assert number(cell(table, "predict time", **row)) == pytest.approx(predict, abs=5e-3)
    memory = mean(r.peak_rss_mb for r in runs.values())
    assert number(cell(table, "memory", **row)) == pytest.approx(memory, abs=5e-3)


@pytest.mark.parametrize("seed", sorted(known.SEEDS))
def test_each_runs_confusion_matrix_shows_every_cell_true_class_on_rows(known_report, seed):
    html, runs = known_report
    shown = confusion_of(html, seed)
    assert shown == {(t, p): runs[seed].cell(t, p) for t in range(10) for p in range(10)}
    assert (shown[(3, 5)], shown[(5, 3)]) == (2, 0)  # transposed, these swap


# --- runs without a result -----------------------------------------------------------------------


@pytest.fixture
def report_with_a_missing_run(tmp_path):
    """The known runs and a third seed whose jobs never ran (aggregate --allow-missing)."""
    root = tmp_path
    _, runs = known.write_results(root)
    paths = [run.directory / "metrics.json" for run in runs.values()]
    paths.append(runs[0].directory.parent / "seed7" / "metrics.json")
    aggregate.run(paths, root / "tables", allow_missing=True)
    return report.render(root / "tables"), runs


def test_a_run_without_a_result_is_listed_with_its_status_and_reason(report_with_a_missing_run):
    html, _ = report_with_a_missing_run
    table = table_with(html, "status", "reason")
    row = {**RUN, "backend": "numpy", "seed": 7}
    assert cell(table, "status", **row) == "missing"
    assert cell(table, "reason", **row) == "its jobs did not run"
    assert len(table) == 1


def test_a_run_without_a_result_is_left_out_of_the_means(report_with_a_missing_run):
    html, runs = report_with_a_missing_run
    mean, sd = mean_and_sd(cell(table_with(html, "variant", "numpy"), "numpy", **RUN))
    accuracies = [run.accuracy for run in runs.values()]
    assert (mean, sd) == (
        pytest.approx(statistics.mean(accuracies), abs=5e-5),
        pytest.approx(statistics.stdev(accuracies), abs=5e-5),
    )
    assert number(cell(table_with(html, "time per epoch"), "runs", **RUN)) == len(runs)


def test_the_page_says_when_it_was_made_in_utc(known_report):
    html, _ = known_report
    text = lxml.html.fromstring(html).text_content()
    [stamp] = re.findall(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC", text)
    made = datetime.datetime.strptime(stamp, "%Y-%m-%d %H:%M UTC").replace(tzinfo=datetime.UTC)
    now = datetime.datetime.now(datetime.UTC)
    assert datetime.timedelta(0) <= now - made < datetime.timedelta(minutes=2)


def test_the_page_says_how_many_runs_have_a_result(report_with_a_missing_run):
    html, runs = report_with_a_missing_run
    text = " ".join(lxml.html.fromstring(html).text_content().split())
    assert re.search(rf"\b{len(runs)} runs with a result\b", text)
