"""The report's seed-plan block in a real browser: headless Chromium at a phone's 390 px."""

from __future__ import annotations

import dataclasses
import html as markup

from mnistbench.report import render, seed_look
from tests import known
from tests.report.test_report import SETTINGS
from tests.report.test_report_browser import FRAME_AROUND, measure
from tests.report.test_seed_look import PLAN, cell

# What the block shows once laid out: each cell's line and the table's headings, as read.
READ_BLOCK = """
  const block = frame.document.getElementById("seed-plan");
  const extra = {
    lines: [...frame.document.querySelectorAll(".seed-plan-cells li")].map((li) => li.innerText),
    headings: [...block.nextElementSibling.nextElementSibling.nextElementSibling
      .querySelectorAll("th")].map((th) => th.innerText),
  };
"""


def test_the_block_reads_how_each_cell_stopped_and_fits_a_phone(tmp_path):
    runs = cell(tmp_path / "runs", {"numpy": [1.0, 1.02, 0.98], "jax": [0.25, 0.26, 0.245]})
    look = tmp_path / "look.json"
    seed_look.write(seed_look.decide(runs, 3, PLAN, "numpy"), look)
    settings = dataclasses.replace(SETTINGS, seed_looks=[str(look)])
    page = render.render(known.write(tmp_path / "results"), settings)
    frame = FRAME_AROUND.replace(
        "{measure}", READ_BLOCK.strip("\n").replace("{", "{{").replace("}", "}}")
    )
    path = tmp_path / "at-390-px.html"
    path.write_text(frame.format(width=390, page=markup.escape(page, quote=True)))
    measured = measure(path, 390, tmp_path / "profile")
    assert measured["lines"] == ["mlp on mnist: decided after 3 seeds (look 1)"]
    assert "reading" in measured["headings"] and "seeds used" in measured["headings"]
    assert measured["document"] <= measured["viewport"] == 390, measured
