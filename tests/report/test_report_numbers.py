"""The numbers on the report page, read back from its HTML and checked against known runs.

The runs come from :mod:`tests.known` (predictions and train figures chosen beforehand). Every
value is found by its labels, not its position: a table by the column headers it has, a row by
the values of its label columns (dataset, variant, backend, seed), a column by words of its
header. A label column that holds one value in every row may be left out of a table and stated
in its caption instead ("Every row: dataset known"); the lookup reads it there. The confusion
matrices are figures: the matrices they draw are checked where they are computed. A change of
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

from mnistbench.report import aggregate, render
from mnistbench.report import confusion as confusion_views
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
    for label, frame in page_tables(html):
        frame = flat_columns(frame)
        frame.attrs["label"] = label
        columns = [str(c) for c in frame.columns]
        if all(any(h in c for c in columns) for h in headers) and set(keys) <= set(columns):
            found.append(frame)
    assert len(found) == 1, f"{len(found)} tables have columns {headers} and {keys}"
    return found[0]


def cell(frame: pd.DataFrame, column: str, **labels):
    """The value in the column headed ``column`` (or, if none, whose header contains it), on the
    row with ``labels``. A label that is not a column must be stated in the table's caption as
    holding for every row."""
    exact = [c for c in frame.columns if str(c) == column]
    [name] = exact or [c for c in frame.columns if column in str(c)]
    rows = frame
    for key, value in labels.items():
        if key not in frame.columns:
            stated = re.search(r"Every row: ([^.]*)\.", frame.attrs.get("label", ""))
            assert stated and f"{key} {value}" in stated[1].split("; "), (key, frame.attrs)
            continue
        rows = rows[rows[key].astype(str) == str(value)]
    assert len(rows) == 1, f"{len(rows)} rows with {labels}"
    return rows[name].iloc[0]


def number(text) -> float:
    """A number as the page shows it: thousands separators allowed, an interval after it
    (``0.8990 [0.8788, 0.9162]``) left out."""
    return float(str(text).split(" [")[0].replace(",", ""))


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
    return render.render(tables), runs


RUN = {"dataset": known.DATASET, "variant": "mlp"}


def assert_mean_and_sample_sd(html: str, runs) -> tuple:
    """The accuracy table's NumPy row shows the mean and the sample sd (n - 1) of ``runs``'
    accuracies; returns the table and the row's keys."""
    table = table_with(html, "test accuracy", "sd over seeds")
    row = {**RUN, "backend": "numpy"}
    accuracies = [run.accuracy for run in runs.values()]
    mean = number(cell(table, "mean over seeds", **row))
    assert mean == pytest.approx(statistics.mean(accuracies), abs=5e-5)
    sd = number(cell(table, "sd over seeds", **row))
    assert sd == pytest.approx(statistics.stdev(accuracies), abs=5e-5)
    return table, row


def test_accuracy_is_the_mean_and_sample_sd_over_seeds(known_report):
    html, runs = known_report
    table, row = assert_mean_and_sample_sd(html, runs)  # sd with n - 1: 0.1768
    assert number(cell(table, "seeds", **row)) == len(runs)


def test_one_seed_shows_its_accuracy_without_a_spread(tmp_path):
    _, runs = known.write_results(tmp_path)
    aggregate.run([runs[0].directory / "metrics.json"], tmp_path / "tables")
    table = table_with(render.render(tmp_path / "tables"), "test accuracy", "sd over seeds")
    row = {**RUN, "backend": "numpy"}
    assert number(cell(table, "mean over seeds", **row)) == pytest.approx(runs[0].accuracy)
    assert pd.isna(cell(table, "sd over seeds", **row))


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
    predict = number(cell(table, "µs per test image", **row))
    per_image = PREDICT_SECONDS[seed] / len(run.pairs) * 1e6
    assert predict == pytest.approx(per_image, rel=5e-3)  # three significant digits
    memory = number(cell(table, "train memory", **row))
    assert memory == pytest.approx(run.train_memory_mb, abs=5e-3)
    process = number(cell(table, "process peak memory", **row))
    assert process == pytest.approx(run.peak_rss_mb, abs=5e-3)
    wall = number(cell(table, "wall time", **row))
    assert wall == pytest.approx(run.job_wall_seconds, abs=5e-3)


def test_speed_table_shows_the_spread_and_the_median_over_seeds(known_report):
    html, runs = known_report
    table = table_with(html, "s/epoch, median", "memory")
    more = table_with(html, "s/epoch, min", "throughput")  # one click below: <details>
    row = {**RUN, "backend": "numpy"}
    per_epoch = [r.train_seconds / known.EPOCHS for r in runs.values()]
    assert number(cell(table, "seeds", **row)) == len(runs)
    assert number(cell(more, "s/epoch, min", **row)) == pytest.approx(min(per_epoch), rel=5e-3)
    median = number(cell(table, "s/epoch, median", **row))
    assert median == pytest.approx(statistics.median(per_epoch), rel=5e-3)
    assert number(cell(more, "s/epoch, max", **row)) == pytest.approx(max(per_epoch), rel=5e-3)
    throughput = statistics.median(r.samples_per_second for r in runs.values())
    assert number(cell(more, "throughput", **row)) == pytest.approx(throughput, abs=0.5)
    n_test = len(runs[0].pairs)
    predict = statistics.median(s / n_test * 1e6 for s in PREDICT_SECONDS.values())
    assert number(cell(more, "µs per test image", **row)) == pytest.approx(predict, rel=5e-3)
    memory = max(r.train_memory_mb for r in runs.values())
    assert number(cell(table, "memory", **row)) == pytest.approx(memory, abs=0.5)
    # numpy is the baseline: its speed-up over itself is its median over its own median
    speedup = cell(table, "training speed-up over numpy", **row)
    assert number(speedup.rstrip("×")) == pytest.approx(1.0)


def test_the_confusion_figure_draws_each_true_class_as_fractions_summed_over_seeds(tmp_path):
    _, runs = known.write_results(tmp_path)
    aggregate.run([run.directory / "metrics.json" for run in runs.values()], tmp_path / "t")
    confusion = pd.read_csv(tmp_path / "t" / "confusion.csv")
    [(key, drawn)] = confusion_views.normalised_confusions(confusion).items()
    assert key == (known.DATASET, "mlp", "numpy")
    for true in range(10):
        counts = [sum(r.cell(true, p) for r in runs.values()) for p in range(10)]
        total = sum(counts)
        expected = [c / total if total else 0.0 for c in counts]
        assert drawn[true].tolist() == pytest.approx(expected)  # rows are true classes
    assert drawn[3, 5] > 0 and drawn[5, 3] == 0  # transposed, these swap


# --- runs without a result -----------------------------------------------------------------------


@pytest.fixture
def report_with_a_missing_run(tmp_path):
    """The known runs and a third seed whose jobs never ran (aggregate --allow-missing)."""
    root = tmp_path
    _, runs = known.write_results(root)
    paths = [run.directory / "metrics.json" for run in runs.values()]
    paths.append(runs[0].directory.parent / "seed7" / "metrics.json")
    aggregate.run(paths, root / "tables", allow_missing=True)
    return render.render(root / "tables"), runs


def test_a_run_without_a_result_is_listed_with_its_status_and_reason(report_with_a_missing_run):
    html, _ = report_with_a_missing_run
    table = table_with(html, "status", "reason")
    row = {**RUN, "backend": "numpy", "seed": 7}
    assert cell(table, "status", **row) == "missing"
    assert cell(table, "reason", **row) == "its jobs did not run"
    assert len(table) == 1


def test_a_run_without_a_result_is_left_out_of_the_means(report_with_a_missing_run):
    html, runs = report_with_a_missing_run
    assert_mean_and_sample_sd(html, runs)
    row = {**RUN, "backend": "numpy"}
    assert number(cell(table_with(html, "s/epoch, median"), "seeds", **row)) == len(runs)


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
