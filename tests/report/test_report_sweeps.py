"""The report of a sweep, rendered in process from aggregated tables: the Sweeps section, the
note on variants with too many points for the per-run figures, and what no backend implements.

The runs are copies of one known run (:mod:`tests.known`) at several points of a learning-rate
sweep, aggregated as the aggregate step writes them.
"""

from __future__ import annotations

import re

import pandas as pd
import pytest

from mnistbench.report import aggregate, render, sweeps, uncertainty
from tests.report.test_aggregate_sweeps import swept_run

RATES = [0.01, 0.02, 0.05, 0.1, 0.2]


@pytest.fixture
def swept_tables(source, tmp_path):
    """Aggregated tables of mlp at each of RATES (one seed each), in ``tmp_path / "tables"``."""
    paths = [swept_run(source, tmp_path, {"lr": lr}) for lr in RATES]
    aggregate.run(paths, tmp_path / "tables")
    return tmp_path / "tables"


def test_a_swept_variant_gets_a_section_with_a_figure_per_setting_and_its_best_points(
    swept_tables,
):
    page = render.render(swept_tables, render.Settings(time_to_accuracy={"mlp": 0.5}))
    [section] = re.findall(r'<section class="sweep"[^>]*>', page)
    assert 'data-variant="mlp"' in section and 'data-points="5"' in section
    assert 'data-axes="lr"' in section and 'data-backends="numpy"' in section
    assert "<b>mlp</b> against <b>lr</b>" in page
    assert '<a href="#sweeps">Sweeps</a>' in page
    # every run is the baseline's: no difference from it to test, so no table of them
    assert uncertainty.P_MCNEMAR not in page
    # five points are more than the per-run figures draw: the page says where they went
    assert len(RATES) > sweeps.FIGURE_POINTS
    assert "Learning curves, confusion matrices and speed-ups below leave out\nmlp:" in page


def test_a_few_points_stay_in_the_per_run_figures(source, tmp_path):
    paths = [swept_run(source, tmp_path, {"lr": lr}) for lr in RATES[:2]]
    aggregate.run(paths, tmp_path / "tables")
    page = render.render(tmp_path / "tables", render.Settings())
    assert 'data-points="2"' in page and "leave out" not in page


def test_pairs_no_installed_backend_implements_are_named_and_uninstalled_ones_skipped():
    runs = pd.DataFrame(
        {"variant": ["mlp", "mlp", "no_such_variant"], "backend": ["numpy", "absent", "numpy"]}
    )
    assert render.not_implemented(runs) == ["no_such_variant on numpy"]
