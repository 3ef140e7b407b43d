"""The report as a reader sees it: headless Chromium at 1280 and 390 px, on reports of the real
workflow (Snakemake, the quick config, the MNIST sample).

Two reports: the quick experiment (mlp on NumPy and PyTorch, one seed) and a sweep of mlp's batch
size (8, 16, 64: as text they would sort 16, 64, 8). At each width the page is measured in the
browser: where the at-a-glance lines end, which tables are wider than their column, the size on
screen of every text element of every figure (its font size times the figure's scale), and the
order of the sweep points in every table, figure and list.
"""

from __future__ import annotations

import html as markup
import re
import subprocess

import pandas as pd
import pytest

from mnistbench.report import compare
from mnistbench.report import statistics as st
from tests.report.test_report_browser import FRAME_AROUND, measure
from tests.workflow.runner import REPO, copy_workflow, run_snakemake

pytestmark = pytest.mark.slow
FIRST_SCREEN = 800  # px: what a 1280 px wide laptop shows before any scrolling
SMALLEST_TEXT = 11  # CSS px
BATCH_SIZES = [8, 16, 64]

MEASURE = """
  const doc = frame.document;
  const glance = doc.querySelector("#glance ul.glance");
  const overflowing = [...doc.querySelectorAll(".scroll")]
    .filter((box) => !box.closest("details"))  // one click below: it may scroll
    .filter((box) => box.querySelector("table").scrollWidth > box.clientWidth + 1)
    .map((box) => [...box.querySelectorAll("th")].map((th) => th.textContent).join(" | "));
  const texts = [...doc.querySelectorAll("svg text")].filter((t) => t.textContent.trim());
  const sizes = texts.map((t) => {{
    const m = t.getScreenCTM();
    const px = parseFloat(frame.getComputedStyle(t).fontSize) * Math.hypot(m.a, m.b);
    return [Math.round(px * 100) / 100, t.textContent.trim()];
  }});
  // the batch sizes each table, figure and list names, in the order it names them
  // a container's text nodes, apart: cells do not run together; hover titles left out
  const words = (c) => {{
    const walk = doc.createTreeWalker(c, NodeFilter.SHOW_TEXT), out = [];
    while (walk.nextNode()) {{
      if (!walk.currentNode.parentElement.closest("title")) out.push(walk.currentNode.textContent);
    }}
    return out.join(" ");
  }};
  const containers = [...doc.querySelectorAll("table, svg, ul.glance, .panels")];
  const points = containers.map((c) => [
    c.tagName + " " + (c.id || c.className.baseVal || c.className || "") + " "
      + (c.querySelector("th, text")?.textContent ?? ""),
    [...words(c).matchAll(/batch_size=(\\d+)/g)].map((m) => Number(m[1])),
  ]);
  const extra = {{
    glanceBottom: glance ? glance.getBoundingClientRect().bottom : null,
    glanceLines: glance ? glance.children.length : 0,
    overflowing, sizes, points,
  }};
"""
FRAME = FRAME_AROUND.replace("{measure}", MEASURE.strip("\n"))


def report_of(work, *config: str) -> str:
    result = run_snakemake(work, "--config", *config)
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    return (work / "results" / "report.html").read_text()


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    """The workflow after the quick experiment: mlp on NumPy and PyTorch, one seed."""
    work = copy_workflow(tmp_path_factory.mktemp("quick"))
    report_of(work, "variants=[mlp]", "backends=[numpy,torch]", "seeds=[0]")
    return work


@pytest.fixture(scope="module")
def sweep(tmp_path_factory):
    work = copy_workflow(tmp_path_factory.mktemp("sweep"))
    sizes = ", ".join(map(str, BATCH_SIZES))
    return report_of(
        work,
        "variants=[mlp]",
        "backends=[numpy,torch]",
        "seeds=[0]",
        f"sweeps={{mlp: {{batch_size: [{sizes}]}}}}",
    )


def at(page: str, width: int, tmp_path) -> dict:
    path = tmp_path / f"at-{width}.html"
    path.write_text(FRAME.format(width=width, page=markup.escape(page, quote=True)))
    found = measure(path, width, tmp_path / f"profile-{width}")
    assert found["viewport"] == width, found
    return found


@pytest.fixture(scope="module", params=[1280, 390], ids=lambda w: f"{w}px")
def quick_screen(request, quick, tmp_path_factory) -> dict:
    page = (quick / "results" / "report.html").read_text()
    return at(page, request.param, tmp_path_factory.mktemp("screen"))


@pytest.fixture(scope="module", params=[1280, 390], ids=lambda w: f"{w}px")
def sweep_screen(request, sweep, tmp_path_factory) -> dict:
    return at(sweep, request.param, tmp_path_factory.mktemp("screen"))


def test_the_first_screen_at_1280_px_holds_the_at_a_glance_lines(quick, sweep, tmp_path):
    for page, lines in (((quick / "results" / "report.html").read_text(), 1), (sweep, 3)):
        found = at(page, 1280, tmp_path)
        assert found["glanceLines"] == lines
        assert found["glanceBottom"] <= FIRST_SCREEN, found["glanceBottom"]


def test_no_table_is_wider_than_its_column_at_1280_px(quick, sweep, tmp_path):
    for page in ((quick / "results" / "report.html").read_text(), sweep):
        assert at(page, 1280, tmp_path)["overflowing"] == []


def assert_figure_text_readable(screen: dict) -> None:
    sizes = screen["sizes"]
    assert len(sizes) > 20  # the figures were measured
    small = [(px, text) for px, text in sizes if px < SMALLEST_TEXT]
    assert small == [], small[:40]


def test_every_text_of_every_figure_of_the_quick_report_is_at_least_11_px(quick_screen):
    assert_figure_text_readable(quick_screen)


def test_every_text_of_every_figure_of_a_sweep_report_is_at_least_11_px(sweep_screen):
    assert_figure_text_readable(sweep_screen)


def test_sweep_points_are_in_numeric_order_in_every_table_figure_and_list(sweep_screen):
    named = [(where, p) for where, p in sweep_screen["points"] if p]
    assert len(named) >= 4  # tables, the at-a-glance list and figures name the points
    for where, points in named:
        assert points == sorted(points), where
        assert set(points) <= set(BATCH_SIZES)


def test_a_one_seed_report_makes_no_speed_verdict_and_compares_clean_with_a_rerun(quick, tmp_path):
    page = (quick / "results" / "report.html").read_text()
    glance = page[page.index('<ul class="glance">') : page.index("</ul>")]
    speed = re.search(r'data-claim="speed">speed</a> ([^;<]*)', glance)[1]
    assert speed.startswith(st.ONE_RUN), speed
    assert "fastest" not in glance and "faster" not in glance
    speed_csv = pd.read_csv(quick / "results" / "report" / "speed.csv")
    torch = speed_csv[speed_csv["backend"] == "torch"]
    assert (torch["train speed-up reading"] == st.ONE_RUN).all()
    assert torch["train speed-up 95% interval, low (×)"].isna().all()
    # the same experiment again, from scratch, then compared with the first
    again = copy_workflow(tmp_path)
    report_of(again, "variants=[mlp]", "backends=[numpy,torch]", "seeds=[0]")
    python = REPO / ".venv" / "bin" / "python"
    python = str(python) if python.exists() else "python"
    folders = [str(quick / "results"), str(again / "results")]
    done = subprocess.run(
        [python, "-m", "mnistbench", "compare", *folders, "--fail-on-flag"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert compare.FLAG not in done.stdout


def test_numpys_memory_is_its_own_footprint_on_the_quick_config(quick):
    summary = pd.read_csv(quick / "results" / "summary.csv")
    numpy = summary[summary["backend"] == "numpy"]
    # the whole process holds every backend's framework; the run's own share is NumPy's
    assert (numpy["train_memory_mb"] < 100).all(), numpy["train_memory_mb"]
    assert (numpy["peak_rss_mb"] > numpy["train_memory_mb"]).all()
