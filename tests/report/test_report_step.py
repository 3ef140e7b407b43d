"""The report step's reading, sorting by status and assembling, from the known tables.

The known runs (tests/known.py): mlp on MNIST with numpy and torch, seeds 0 and 1,
a quick run (one epoch on 4,000 images), and one failed mnn run.
"""

from __future__ import annotations

import datetime
import json
import re
import time
from html import unescape

import lxml.html
import pandas as pd
import pytest

from mnistbench.errors import MnistbenchError
from mnistbench.report import confusion as confusion_views
from mnistbench.report import figures, render, tables
from mnistbench.variants import VARIANTS
from tests import known


def text(html: str) -> str:
    return " ".join(lxml.html.fromstring(html).text_content().split())


def test_the_first_paragraph_counts_the_runs_with_a_result_and_names_what_they_cover(tmp_path):
    settings = render.Settings(
        baseline="numpy",
        time_to_accuracy={"mlp": 0.9},
        configfiles=("config/config.yaml",),
        overrides=("seeds=[0,1]",),
    )
    # the config file's own text (shown one click below) names every variant: left out here
    html = render.render(known.write(tmp_path), settings)
    page = text(re.sub(r'<pre class="config">.*?</pre>', "", html, flags=re.S))
    assert "4 runs with a result: mlp on mnist, with numpy, torch, seeds 0, 1." in page
    assert f"from commit {known.COMMIT[:12]};" in page and "with uncommitted changes" not in page
    assert f"cpu: {known.CPU}, 64 cores, threads 1" in page
    assert "4 runs, one row each" in page
    # the quick runs depart from their recipe: both rows of the accuracy table (numpy, torch)
    assert re.search(r"\b2 of the rows below depart from their source notebook's recipe", page)
    # the failed run is listed apart, with its reason, and counted nowhere else
    assert "Runs without a result" in page and "train: out of memory" in page
    assert "mnn" not in page.split("Runs without a result")[-1].split("out of memory")[-1]
    assert "The baseline backend numpy has no run here" not in page
    assert "Time to accuracy" in page
    assert "Hyperparameters of these runs:" in page  # a table, a column each: not JSON
    used = json.loads(known.HYPERPARAMETERS)  # headings, then the one row, cell by cell
    assert "".join(used) + " " + "".join(map(str, used.values())) in page
    assert re.search(r"time-to-accuracy targets ?mlp 0\.9\b", page)


def test_the_baseline_backend_comes_first_wherever_its_name_sorts(tmp_path):
    page = text(render.render(known.write(tmp_path), render.Settings(baseline="torch")))
    assert "mlp on mnist, with torch, numpy, seeds 0, 1." in page


def test_a_baseline_without_runs_is_said_and_its_chart_left_out(tmp_path):
    html = render.render(known.write(tmp_path), render.Settings(baseline="jax"))
    assert "The baseline backend jax has no run here" in text(html)
    assert "Bar chart: training speed-up over jax" not in html
    assert "Time to accuracy" not in text(html)  # no targets asked for


def test_a_backend_with_the_baselines_confusion_matrix_is_named_as_identical(tmp_path):
    folder = known.write(tmp_path)
    confusion = known.confusion()
    torch = confusion["backend"] == "torch"
    numpy = confusion[confusion["backend"] == "numpy"]
    confusion.loc[torch, "count"] = numpy["count"].to_numpy()
    confusion.to_csv(folder / "confusion.csv", index=False)
    page = text(render.render(folder))
    assert "seeds): mlp (torch)." in page


def test_runs_without_a_status_column_or_with_an_empty_one_count_as_results():
    summary = pd.DataFrame({"seed": [0, 1, 2], "status": ["ok", None, "diverged"]})
    ok, not_ok = render.split_by_status(summary)
    assert ok["seed"].tolist() == [0, 1] and not_ok["seed"].tolist() == [2]
    ok, not_ok = render.split_by_status(summary.drop(columns="status"))
    assert ok["seed"].tolist() == [0, 1, 2] and not_ok.empty


def test_tables_without_provenance_read_as_an_empty_provenance(tmp_path):
    folder = known.write(tmp_path)
    (folder / "provenance.csv").unlink()
    found = render.read_tables(folder)
    assert found["provenance"].empty
    assert list(found["provenance"].columns) == [
        "dataset",
        "variant",
        "backend",
        "point",
        "seed",
        "device",
        "item",
        "value",
    ]
    assert "4 runs with a result" in text(render.render(folder))


def test_provenance_values_are_read_as_written(tmp_path):
    folder = known.write(tmp_path)
    provenance = known.provenance()
    provenance.loc[provenance["item"] == "GPU", "value"] = "NA"
    provenance.to_csv(folder / "provenance.csv", index=False)
    found = render.read_tables(folder)["provenance"]
    assert set(found.loc[found["item"] == "GPU", "value"]) == {"NA"}
    assert set(found.loc[found["item"] == "CPU cores", "value"]) == {"64"}


@pytest.mark.parametrize("table", ["summary", "confusion", "history"])
def test_a_missing_or_empty_table_is_one_error_naming_the_folder(tmp_path, table):
    folder = known.write(tmp_path)
    (folder / f"{table}.csv").unlink()
    with pytest.raises(MnistbenchError, match=f"cannot read the aggregated tables in {folder}"):
        render.read_tables(folder)
    (folder / f"{table}.csv").write_text("")
    with pytest.raises(MnistbenchError, match=f"cannot read the aggregated tables in {folder}"):
        render.read_tables(folder)


def test_the_csv_tables_are_those_of_the_runs_with_a_result(tmp_path):
    folder = known.write(tmp_path / "tables")
    out = tmp_path / "site" / "report.html"
    out.parent.mkdir()
    settings = render.Settings(time_to_accuracy={"mlp": 0.9})
    render.run(folder, out, settings, csv_dir=tmp_path / "csv")
    assert out.read_text().startswith("<!doctype html>")
    assert re.search(r"time-to-accuracy targets ?mlp 0\.9\b", text(out.read_text()))
    accuracy = pd.read_csv(tmp_path / "csv" / "accuracy.csv")
    assert list(accuracy.columns)[:3] == ["dataset", "variant", "backend"]  # no index column
    assert accuracy[["variant", "backend", "seeds"]].values.tolist() == [
        ["mlp", "numpy", 2],
        ["mlp", "torch", 2],
    ]
    reached = pd.read_csv(tmp_path / "csv" / "time_to_accuracy.csv")
    assert reached["target test accuracy"].tolist() == [0.9, 0.9]
    speed = pd.read_csv(tmp_path / "csv" / "speed.csv")
    assert speed["seeds"].tolist() == [2, 2]


def test_the_seed_column_is_left_out_with_a_note_where_no_figure_applies(tmp_path):
    folder = known.write(tmp_path)
    for name in ("summary", "confusion", "history", "provenance"):
        frame = pd.read_csv(folder / f"{name}.csv")
        frame["dataset"] = "fashion"
        frame.to_csv(folder / f"{name}.csv", index=False)
    html = render.render(folder)
    assert "source notebook's test accuracy" not in text(html)
    note = "The source notebooks' figures are for MNIST: none applies to these datasets."
    captions = [
        " ".join(c.text_content().split()) for c in lxml.html.fromstring(html).iter("caption")
    ]
    every_row = "Every row: dataset fashion; variant mlp; device cpu; seeds 2. "
    assert f"{every_row}95% interval: Student's t over seeds. {note}" in captions  # whole


def images(html: str) -> dict[str, str]:
    """Label -> the SVG of every chart of the page, character for character as embedded."""
    charts = re.findall(
        r'<div class="chart" role="img" aria-label="([^"]*)">(<svg.*?</svg>)', html, re.S
    )
    return {unescape(label): svg for label, svg in charts}


def test_the_speed_and_difference_charts_are_drawn_from_the_runs_with_a_result(tmp_path):
    folder = known.write(tmp_path)
    found = render.read_tables(folder)
    ok, _ = render.split_by_status(found["summary"])
    confusion = found["confusion"][found["confusion"]["variant"] == "mlp"]
    style = figures.styles(ok["backend"], "torch")
    shown = images(render.render(folder, render.Settings(baseline="torch")))
    speed = shown[
        "Training speed-up over torch per variant and backend, log scale, with 95% intervals"
    ]
    derived = render.derived_tables(found, render.Settings(baseline="torch"), folder)
    assert speed == figures.speed_chart(derived["speed"], "torch", style)
    differ = shown["Cells where a backend's confusion matrix differs from torch's on mnist"]
    assert differ == confusion_views.difference_grid(confusion, "torch", style, "mnist")


def test_the_table_of_differing_confusions_lists_only_backends_that_differ(tmp_path):
    folder = known.write(tmp_path)
    # the known torch runs differ from numpy's
    assert confusion_views.CELLS in render.render(folder)
    confusion = known.confusion()
    torch = confusion["backend"] == "torch"
    confusion.loc[torch, "count"] = confusion.loc[~torch, "count"].to_numpy()
    confusion.to_csv(folder / "confusion.csv", index=False)
    html = render.render(folder)
    assert "seeds): mlp (torch)." in text(html) and confusion_views.CELLS not in html


def test_numbers_in_the_tables_are_read_as_the_text_written(tmp_path):
    folder = known.write(tmp_path)
    summary = known.summary().assign(backend_version="2.10")  # a float would read 2.1
    summary.to_csv(folder / "summary.csv", index=False)
    found = render.read_tables(folder)["summary"]
    assert set(found["backend_version"]) == {"2.10"}


def test_the_page_says_when_it_was_made_and_lists_failed_runs_only_when_there_are_some(tmp_path):
    folder = known.write(tmp_path)
    page = text(render.render(folder))
    assert re.search(r"Generated \d{4}-\d\d-\d\d \d\d:\d\d UTC from commit", page)
    assert "none applies to these datasets" not in page  # MNIST: the notebooks' figures apply
    summary = known.summary()
    summary[summary["status"] == "ok"].to_csv(folder / "summary.csv", index=False)
    assert "Runs without a result" not in text(render.render(folder))


def test_the_warning_counts_only_the_rows_that_depart_from_their_recipe(tmp_path):
    folder = known.write(tmp_path)
    summary = known.summary()
    torch = summary["backend"] == "torch"
    full = json.dumps(VARIANTS["mlp"].hyperparameters({}), sort_keys=True)  # the notebook's recipe
    summary.loc[torch, ["hyperparameters", "train_limit", "test_limit"]] = [full, None, None]
    summary.to_csv(folder / "summary.csv", index=False)
    page = text(render.render(folder))
    assert re.search(r"\b1 of the rows below depart from their source notebook's recipe", page)


def test_the_page_is_dated_in_utc_whatever_the_local_time_zone(tmp_path, monkeypatch):
    folder = known.write(tmp_path)
    monkeypatch.setenv("TZ", "Asia/Kolkata")  # UTC+5:30
    time.tzset()
    try:
        page = text(render.render(folder))
    finally:
        monkeypatch.undo()
        time.tzset()
    stamp = re.search(r"Generated (\d{4}-\d\d-\d\d \d\d:\d\d) UTC", page)[1]
    made = datetime.datetime.strptime(stamp, "%Y-%m-%d %H:%M").replace(tzinfo=datetime.UTC)
    assert abs(datetime.datetime.now(datetime.UTC) - made) < datetime.timedelta(minutes=5)


def test_the_speed_csv_names_the_chosen_baseline(tmp_path):
    folder = known.write(tmp_path / "tables")
    out = tmp_path / "site" / "report.html"
    out.parent.mkdir()
    render.run(folder, out, render.Settings(baseline="torch"), csv_dir=tmp_path / "csv")
    speed = pd.read_csv(tmp_path / "csv" / "speed.csv").set_index("backend")
    assert speed.loc["torch", tables.SPEEDUP.format("torch")] == 1.0
    assert speed.loc["numpy", tables.SPEEDUP.format("torch")] < 1  # numpy is the slower here


def test_a_page_with_no_run_with_a_result_lists_the_runs_and_draws_nothing(tmp_path):
    folder = known.write(tmp_path)
    summary = known.summary().assign(status="diverged", reason="loss not finite at epoch 1")
    summary.to_csv(folder / "summary.csv", index=False)
    html = render.render(folder)
    assert "Runs without a result" in text(html) and "loss not finite at epoch 1" in text(html)
    assert images(html) == {}


def test_the_config_files_contents_are_one_click_below_their_names(tmp_path, monkeypatch):
    folder = known.write(tmp_path / "results")
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "quick.yaml").write_text("seeds: [0]\nsubset:\n  train: 4000\n")
    monkeypatch.chdir(tmp_path)  # the workflow's directory, where the report step runs
    settings = render.Settings(configfiles=("config/quick.yaml", "config/gone.yaml"))
    tree = lxml.html.fromstring(render.render(folder, settings))
    [shown] = tree.xpath("//details[summary[contains(., 'its contents')]]")
    assert shown.xpath("summary")[0].text_content() == "its contents (3 lines)"
    assert shown.xpath("pre")[0].text_content() == "seeds: [0]\nsubset:\n  train: 4000"


def test_runs_from_several_commits_say_so_in_the_first_paragraph(tmp_path):
    folder = known.write(tmp_path)
    provenance = pd.read_csv(folder / "provenance.csv", dtype=str, keep_default_na=False)
    first = (provenance["item"] == "commit") & (provenance["seed"] == "0")
    provenance.loc[first, "value"] = "f" * 40
    provenance.to_csv(folder / "provenance.csv", index=False)
    page = text(render.render(folder))
    assert "from several commits;" in page and "from commit differs" not in page
