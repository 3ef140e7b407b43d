"""bench/docs_tables.py: every table of measured numbers in docs/ is what its CSV says, with the
machine and command that measured it, and a changed number in a CSV changes the page."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest

from tests.conftest import REPO


@pytest.fixture
def docs_tables(bench_script):
    return bench_script("docs_tables")


def test_every_table_in_the_docs_is_what_its_data_say(docs_tables):
    # Regenerate with: python bench/docs_tables.py
    tables = docs_tables.manifest()
    for page in docs_tables.pages(tables):
        text = page.read_text()
        assert docs_tables.render_page(text, tables) == text, f"{page.name}: run docs_tables.py"


def test_every_table_has_its_block_on_its_page(docs_tables):
    tables = docs_tables.manifest()
    assert tables
    for name, spec in tables.items():
        assert f"<!-- table: {name} " in (REPO / spec["page"]).read_text(), name


def test_every_table_names_its_machine_and_command(docs_tables):
    for name, spec in docs_tables.manifest().items():
        assert spec["sources"], name
        for source in spec["sources"]:
            assert source["machine"] and source["command"], name
            assert (docs_tables.DATA / source["csv"]).is_file(), source["csv"]
            block = docs_tables.render_table(name, spec)
            assert f"`{source['command']}`" in block and source["machine"] in block


def test_a_changed_number_in_a_csv_changes_its_table(docs_tables, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(docs_tables.DATA, data)
    speed = pd.read_csv(data / "speed-xeon.csv")
    speed.loc[(speed["variant"] == "mlp") & (speed["runner"] == "numpy"), "seconds"] = 2.79
    speed.to_csv(data / "speed-xeon.csv", index=False)
    tables = docs_tables.manifest()
    page = (REPO / tables["speed-cpu"]["page"]).read_text()
    changed = docs_tables.render_page(page, tables, data)
    assert changed != page
    assert "| 2.79 s, 2.00x |" in changed  # 5.58 s in the notebook's loop / 2.79 s


def test_a_block_naming_no_table_is_an_error(docs_tables):
    page = "<!-- table: nowhere (old) -->\n| a |\n<!-- end table -->\n"
    with pytest.raises(SystemExit, match="nowhere"):
        docs_tables.render_page(page, docs_tables.manifest())


def test_text_outside_the_blocks_is_kept(docs_tables):
    tables = {"t": {"kind": "make_run", "sources": tables_source()}}
    page = "before\n<!-- table: t -->\nstale\n<!-- end table -->\nafter\n"
    new = docs_tables.render_page(page, tables)
    assert new.startswith("before\n<!-- table: t ") and new.endswith("<!-- end table -->\nafter\n")
    assert "stale" not in new


def tables_source():
    return [{"csv": "make_run-epyc.csv", "machine": "a machine", "command": "make run"}]


def test_the_whole_experiments_parts_read_per_core_beside_its_wall_time(docs_tables):
    parts = {"prepare": 2, "setup": 4, "score": 60, "checkpoints": 2, "start": 20}
    row = {"label": "after", "cores": 2, "runs": 54, "wall_seconds": 600, "ratio": 1.2}
    row |= {"training_core_seconds": 1000} | {f"{k}_core_seconds": v for k, v in parts.items()}
    row |= {"evaluate_core_seconds": 80, "other_core_seconds": 32}
    table = docs_tables.make_run_table(pd.DataFrame([row]), {})
    cells = (
        "| after | 54 | 10 min 0 s | 500 s | 1.20 | 1.0 | 2.0 | 30.0 | 1.0 | 10.0 | 40.0 | 16.0 "
        "| 6.0% |"
    )
    assert cells in table


def test_lost_classes_say_in_which_runs(docs_tables):
    runs = pd.DataFrame({"seed": [0, 1, 2], "classes_lost": ["1 9", "1", "1"]})
    assert docs_tables.lost_classes(runs) == "1 in every run, 9 in seed 0"
    none = pd.DataFrame({"seed": [0, 1], "classes_lost": ["-", "-"]})
    assert docs_tables.lost_classes(none) == "none"


def test_accuracy_rows_of_a_later_source_replace_an_earlier_ones(docs_tables):
    row = {"variant": "mlp", "recipe": "default", "backend": "numpy", "device": "cpu"}
    row |= {"accuracy_sd": 0.001, "seed_reported": 0.9829, "target": 0.982}
    rows = pd.DataFrame([row | {"accuracy_mean": 0.97}, row | {"accuracy_mean": 0.9835}])
    table = docs_tables.accuracy_table(rows, {})
    assert "| `mlp` | 0.9835 ± 0.0010 | 0.9829 | 0.982 |" in table
    assert "0.9700" not in table
