"""The report in a real browser: Debian's headless Chromium, as wide as a phone (390 px).

Headless Chromium will not open a window narrower than 500 px, so the report goes into a frame
390 px wide (``srcdoc``: same origin, so the outer page's script can read the frame's layout) and
tall enough that no scrollbar takes width. Inside the frame, the viewport is a phone's: its
media queries and layout are the ones a phone gets. The outer page writes the measured widths into
its DOM; ``--dump-dom`` prints the DOM after load, and the test reads them back.
"""

from __future__ import annotations

import html as markup
import json
import re
import shutil
import subprocess

import pytest

from mnistbench.report import render
from tests import known
from tests.conftest import skip_or_fail
from tests.report.test_report import SETTINGS

# The report in an iframe {width} px wide; once loaded, ``{measure}`` (a script that sees
# ``frame``, ``root`` and ``edges``) sets ``extra``, what it measures beyond the widths, and the
# page writes the viewport's, the document's and the widest edge's widths with it as JSON into
# <pre id="measured">.
FRAME_AROUND = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>at {width} px</title></head>
<body style="margin:0">
<iframe id="page" style="width:{width}px;height:40000px;border:0" srcdoc="{page}"></iframe>
<script>
document.getElementById("page").addEventListener("load", (event) => {{
  const frame = event.target.contentWindow, root = frame.document.documentElement;
  // the right edge of everything outside a table's or a figure's own scrolling box
  const edges = [...frame.document.body.querySelectorAll("*")]
    .filter((e) => !e.parentElement.closest(".scroll, .natural .chart"))
    .map((e) => e.getBoundingClientRect().right);
{measure}
  const out = document.createElement("pre");
  out.id = "measured";
  out.textContent = JSON.stringify({{
    viewport: frame.innerWidth,
    document: root.scrollWidth,
    widest: Math.ceil(Math.max(...edges)),
    ...extra,
  }});
  document.body.append(out);
}});
</script>
</body></html>
"""
MEASURE = """
  // sort the speed table by its median seconds per epoch: a click, then another
  const heading = [...frame.document.querySelectorAll("th")]
    .find((th) => th.textContent.includes("s/epoch, median"));
  const rows = () => [...heading.closest("table").tBodies[0].rows];
  const column = () => rows().map((row) => row.cells[heading.cellIndex].dataset.sort);
  const before = column();
  heading.click();
  const ascending = column();
  heading.click();
  const descending = column();
  const extra = {{
    sorted: {{before, ascending, descending, state: heading.getAttribute("aria-sort")}},
  }};
"""
FRAME = FRAME_AROUND.replace("{measure}", MEASURE.strip("\n"))


def chromium() -> str:
    for name in ("chromium", "chromium-browser"):
        if path := shutil.which(name):
            return path
    skip_or_fail("needs Debian's chromium (apt-get install chromium) to render the report")


def measure(page, width: int, profile) -> dict:
    """Open ``page`` in headless Chromium ``width`` px wide; the widths the script measured."""
    command = [
        chromium(),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        "--hide-scrollbars",
        f"--window-size={max(width, 800)},900",
        "--virtual-time-budget=5000",
        "--dump-dom",
        page.as_uri(),
    ]
    done = subprocess.run(command, capture_output=True, text=True, timeout=120)
    found = re.search(r'<pre id="measured">([^<]*)</pre>', done.stdout)
    assert found, f"chromium printed no measurement: {done.stderr[-2000:]}"
    return json.loads(found.group(1))


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    folder = tmp_path_factory.mktemp("report")
    html = render.render(known.write(folder / "results"), SETTINGS)
    path = folder / "at-390-px.html"
    path.write_text(FRAME.format(width=390, page=markup.escape(html, quote=True)))
    return path


@pytest.fixture(scope="module")
def measured(page, tmp_path_factory) -> dict:
    return measure(page, 390, tmp_path_factory.mktemp("profile"))


def test_at_390_px_the_page_is_no_wider_than_the_phone(measured):
    widths = measured
    assert widths["viewport"] == 390, widths  # the window really was a phone's width
    assert widths["document"] <= widths["viewport"], widths  # no sideways scroll of the page
    assert widths["widest"] <= widths["viewport"], widths  # nothing sticks out (tables scroll)


def test_a_click_on_a_heading_sorts_its_table_by_value_and_a_second_reverses_it(measured):
    sorted_ = measured["sorted"]
    assert [float(v) for v in sorted_["before"]] == [2.0, 0.9]  # numpy, torch: table order
    assert [float(v) for v in sorted_["ascending"]] == [0.9, 2.0]
    assert [float(v) for v in sorted_["descending"]] == [2.0, 0.9]
    assert sorted_["state"] == "descending"
