"""The report from small known tables: provenance, numbers in context, ratios, a valid page."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pandas as pd
import pytest

from mnistbench.report import confusion as confusion_views
from mnistbench.report import figures, render
from mnistbench.report import tables as report_tables
from tests import known
from tests.cli import error_line, run_cli

SETTINGS = render.Settings(
    baseline="numpy",
    time_to_accuracy={"mlp": 0.9},
    configfiles=("config/config.yaml", "config/quick.yaml"),
    overrides=("seeds=[0,1]", "hyperparameters={mlp: {epochs: 1}}"),
)
VOID = {"meta", "img", "br", "hr", "input", "link", "source", "col", "wbr", "area", "base"}


class Page(HTMLParser):
    """The page's structure as html.parser reads it: unbalanced tags, ids, every URL attribute."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.stack, self.problems, self.ids, self.urls, self.metas = [], [], [], [], []
        self.styles, self._in_style = [], False
        self.feed(html)
        self.close()
        self.problems += [f"<{tag}> not closed" for tag in self.stack]

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.ids += [attrs["id"]] if "id" in attrs else []
        self.urls += [v for k, v in attrs.items() if k in ("src", "href", "action", "srcset")]
        self.metas += [attrs] if tag == "meta" else []
        self._in_style = tag == "style"
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        self._in_style = False
        if not self.stack or self.stack[-1] != tag:
            self.problems.append(f"</{tag}> closes <{self.stack[-1] if self.stack else ''}>")
            return
        self.stack.pop()

    def handle_data(self, data):
        if self._in_style:
            self.styles.append(data)


@pytest.fixture(scope="module")
def tables(tmp_path_factory):
    return known.write(tmp_path_factory.mktemp("results"))


# Function scope: mutmut credits a fixture's work to the first test that used it only.
@pytest.fixture
def html(tables) -> str:
    return render.render(tables, SETTINGS)


def test_the_page_shows_the_commit_and_the_cpu_model(html):
    assert known.COMMIT in html
    assert known.CPU in html


def test_the_page_shows_the_config_files_and_the_command_line_overrides(html):
    assert "<code>config/config.yaml</code>, <code>config/quick.yaml</code>" in html
    assert "<code>seeds=[0,1]</code>" in html
    assert "<code>hyperparameters={mlp: {epochs: 1}}</code>" in html


def test_the_speed_table_gives_each_backends_speed_up_over_the_baseline():
    table = report_tables.speed_table(known.summary().query("status == 'ok'"), "numpy")
    speedup = table.set_index("backend")["training speed-up over numpy (×, ratio of medians)"]
    assert speedup["numpy"] == pytest.approx(1.0)
    assert speedup["torch"] == pytest.approx(2.0 / 0.9)  # medians: numpy 2.0 s, torch 0.9 s


def test_the_speed_ratio_column_is_on_the_page_with_its_unit(html):
    assert "training speed-up over numpy (×, ratio of medians)" in html
    assert re.search(
        r'data-sort="2\.222[0-9]*">2\.22× <span>\[[0-9.]+×, [0-9.]+×\]</span></td>', html
    )


def test_predict_time_is_microseconds_per_test_image(html):
    runs = report_tables.runs_table(known.summary().query("status == 'ok'"))
    assert runs[report_tables.PREDICT_US].tolist() == pytest.approx([2.0] * 4)  # 2 ms / 1,000
    assert report_tables.PREDICT_US in html and ">2.00</td>" in html


def test_a_quick_runs_accuracy_stands_beside_its_epochs_subset_and_departures(html):
    table = report_tables.accuracy_table(known.summary().query("status == 'ok'"))
    row = table.set_index("backend").loc["torch"]
    assert row["epochs"] == 1 and row["training images"] == 4000
    assert row["departs from the source notebook's recipe"] == (
        "epochs 1 (source notebook: 20); first 4,000 train images only; "
        "first 1,000 test images only"
    )
    assert "first 4,000 train images only" in html
    assert "the notebook's figure, which comes from its full recipe" in html  # the note above


def test_a_failed_run_is_listed_with_its_reason_and_without_an_accuracy(html, tables):
    assert "train: out of memory" in html
    found = render.read_tables(tables)
    accuracy = render.derived_tables(found, SETTINGS)["accuracy"]
    assert "mnn" not in set(accuracy["variant"])


def test_time_to_accuracy_sums_the_seconds_up_to_the_first_epoch_at_the_target():
    history = pd.DataFrame(
        {
            "dataset": "mnist",
            "variant": "mlp",
            "backend": "numpy",
            "seed": 0,
            "epoch": [1, 2, 3],
            "test_accuracy": [0.5, 0.8, 0.9],
            "seconds": [1.0, 2.0, 3.0],
        }
    )
    reached = report_tables.time_to_accuracy(history, {"mlp": 0.8}).iloc[0]
    assert reached["training seconds to reach it (median)"] == 3.0
    assert reached["epoch reached (median)"] == 2 and reached["seeds reaching it"] == "1 of 1"
    missed = report_tables.time_to_accuracy(history, {"mlp": 0.95}).iloc[0]
    assert missed["seeds reaching it"] == "0 of 1"
    assert pd.isna(missed["training seconds to reach it (median)"])


def test_a_run_on_another_cpu_is_listed_where_runs_differ():
    provenance = known.provenance(cpu_of={("torch", 1): "Intel Xeon Gold 6230"})
    found = report_tables.provenance_tables(provenance)
    assert found["machines"].loc[0, "CPU model"] == report_tables.DIFFERS
    differs = found["differs"].set_index(["backend", "seed"])["CPU model"]
    assert differs[("torch", 1)] == "Intel Xeon Gold 6230" and differs[("numpy", 0)] == known.CPU
    assert "commit" not in found["differs"]  # the same for every run: shown once


def test_confusion_differences_count_the_cells_where_a_backend_departs_from_the_baseline():
    found = confusion_views.differences(known.confusion(), "numpy").set_index("backend")
    assert found.loc["torch", confusion_views.CELLS] == 2  # 7 -> 7 and 7 -> 1
    assert found.loc["torch", confusion_views.LARGEST] == pytest.approx(3 / 200)


def test_the_page_has_a_viewport_tag(html):
    page = Page(html)
    viewports = [m for m in page.metas if m.get("name") == "viewport"]
    assert viewports == [{"name": "viewport", "content": "width=device-width, initial-scale=1"}]


def test_the_page_parses_with_every_tag_closed_and_unique_ids(html):
    page = Page(html)
    assert page.problems == []
    assert len(page.ids) == len(set(page.ids))
    assert html.startswith("<!doctype html>")


def test_the_page_embeds_everything_and_links_nowhere_outside(html):
    page = Page(html)
    assert page.urls and all(url.startswith(("data:", "#")) for url in page.urls), page.urls
    assert "@import" not in "".join(page.styles) and "url(" not in "".join(page.styles)
    # the config files' own text (its mirrors' addresses) is shown as text, not linked
    shown = re.sub(r'<pre class="config">.*?</pre>', "", html.split("<script>")[0], flags=re.S)
    assert not re.search(r"(?<![\w.])(https?:)?//[\w-]+\.", shown)


def test_every_numeric_cell_carries_its_raw_value_for_sorting(html):
    cells = re.findall(r'<td class="num" data-sort="([^"]*)">([^<]*)</td>', html)
    assert cells and all(raw == "" or float(raw) == float(raw) for raw, _ in cells)
    assert "table.sortable th" in html  # the inline script that sorts them


def test_the_report_writes_its_tables_as_csv(tables, tmp_path):
    render.run(tables, tmp_path / "report.html", SETTINGS, csv_dir=tmp_path / "csv")
    assert sorted(p.name for p in (tmp_path / "csv").iterdir()) == [
        f"{name}.csv" for name in sorted(render.CSV_TABLES)
    ]
    speed = pd.read_csv(tmp_path / "csv" / "speed.csv").set_index("backend")
    assert speed.loc["torch", report_tables.SPEEDUP.format("numpy")] == pytest.approx(2.0 / 0.9)


def test_a_target_accuracy_above_one_is_one_line_and_writes_nothing(tables, tmp_path):
    out = tmp_path / "report.html"
    result = run_cli(
        "report", "--tables", str(tables), "--out", str(out), "--time-to-accuracy", "mlp=97"
    )
    assert result.returncode != 0
    assert "--time-to-accuracy" in error_line(result, "report")
    assert not out.exists()


def curve_axes(history: pd.DataFrame):
    style = figures.styles(sorted(set(history["backend"])), "numpy")
    return figures.learning_curves_figure(history, style).axes


def test_a_one_epoch_run_is_drawn_at_epoch_one_with_whole_epoch_ticks():
    history = known.history()
    epoch_axes = [ax for ax in curve_axes(history) if ax.get_xlabel() == "epoch"]
    assert epoch_axes
    for ax in epoch_axes:
        low, high = ax.get_xlim()
        ticks = [t for t in ax.get_xticks() if low <= t <= high]
        assert ticks == [1]


def test_losses_equal_to_the_seventh_digit_are_drawn_on_a_plain_readable_scale():
    history = known.history()
    history["train_loss"] = 0.6430304 + history["seed"] * 1e-8
    loss_axis = next(
        ax for ax in curve_axes(history) if ax.get_ylabel().startswith("training loss")
    )
    low, high = loss_axis.get_ylim()
    assert high - low >= 0.02 * 0.6430304 * 0.999
    assert low < 0.6430304 < high
    loss_axis.figure.canvas.draw()
    assert loss_axis.yaxis.get_major_formatter().get_offset() == ""
