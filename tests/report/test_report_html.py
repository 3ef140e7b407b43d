"""The report's cells: each number in the format its unit calls for, sortable by its raw value."""

import math

import jinja2
import numpy as np
import pandas as pd
import pytest

from mnistbench.report.html import Cell, environment, formatter, significant, table


@pytest.mark.parametrize(
    "value, text",
    [
        (0.00123456, "0.00123"),
        (0.0123456, "0.0123"),
        (0.999, "0.999"),
        (1.23456, "1.23"),
        (12.3456, "12.3"),
        (123.456, "123"),
        (1234.56, "1,235"),
        (-12.3456, "-12.3"),
        (0.0, "0"),
        (float("inf"), "inf"),
        (float("nan"), "nan"),
    ],
)
def test_significant_keeps_three_digits_without_an_exponent(value, text):
    assert significant(value) == text


def test_significant_takes_the_number_of_digits():
    assert significant(3.14159, 5) == "3.1416"
    assert significant(31415.9, 2) == "31,416"


@pytest.mark.parametrize(
    "column, value, text",
    [
        ("speed-up over numpy", 2.6149, "2.61×"),
        ("train time ratio", 0.5, "0.50×"),
        ("train (×)", 1.0, "1.00×"),
        ("target test accuracy", 0.95, "0.95"),
        ("test accuracy", 0.97654, "0.9765"),
        ("final train loss", 0.123456, "0.1235"),
        ("sd over seeds", 0.00123, "0.0012"),
        ("change (points)", -0.01234, "-0.0123"),
        ("change (points)", 0.5, "0.5000"),
        ("images/s", 12345.6, "12,346"),
        ("train images/s", 12.34, "12"),
        ("peak memory (MiB)", 1536.4, "1,536"),
        ("peak memory (MiB)", 15.44, "15"),
        ("train (s)", 12.3456, "12.3"),
        ("train (s)", 20.0, "20.0"),  # a time keeps its 3 digits when it is a whole number
        ("median s/epoch", 0.012345, "0.0123"),
        ("median s/epoch", 2.0, "2.00"),
        ("training seconds to reach it (median)", 123.456, "123"),
        ("training seconds to reach it (median)", 3.0, "3.00"),
        ("predict (µs/image)", 1.23456, "1.23"),
        ("predict (µs/image)", 1.0, "1.00"),
        ("target test accuracy", 1e-5, "1e-05"),
        ("test accuracy", float("inf"), "inf"),
        ("images/s", float("inf"), "inf"),
        ("epochs", 20.0, "20"),
        ("samples", 60000, "60,000"),
        ("learning rate", 0.05, "0.0500"),  # no unit: integers plain, else 3 significant digits
    ],
)
def test_each_unit_has_its_format(column, value, text):
    assert formatter(column)(value) == text


def test_a_table_formats_numbers_by_column_and_sorts_them_by_raw_value():
    frame = pd.DataFrame(
        {
            "variant": ["mlp", "mnn"],
            "test accuracy": [0.97654, 0.9],
            "train (s)": [12.3456, np.nan],
        }
    )
    result = table(frame, "caption")
    assert result.headers == ["variant", "test accuracy", "train (s)"]
    assert result.caption == "caption"
    assert result.rows[0] == [
        Cell("mlp"),
        Cell("0.9765", repr(0.97654), numeric=True),
        Cell("12.3", repr(12.3456), numeric=True),
    ]
    assert result.rows[1][1] == Cell("0.9000", repr(0.9), numeric=True)
    assert result.rows[1][2] == Cell("", "", numeric=True)  # missing: blank, sorts as blank


def test_a_column_with_one_value_moves_into_the_caption():
    frame = pd.DataFrame(
        {"dataset": ["mnist", "mnist"], "device": ["cpu", "cuda"], "seeds": [3, 3], "n": [1, 2]}
    )
    result = table(frame, "Accuracy.")
    assert result.caption == "Every row: dataset mnist; seeds 3. Accuracy."
    assert result.headers == ["device", "n"]
    assert [[c.text for c in row] for row in result.rows] == [["cpu", "1"], ["cuda", "2"]]


def test_the_default_point_alone_leaves_the_caption_as_it_was():
    frame = pd.DataFrame({"point": ["default", "default"], "n": [1, 2]})
    result = table(frame, "Accuracy.")
    assert result.headers == ["n"] and result.caption == "Accuracy."
    swept = table(frame.assign(point="lr=0.1"), "Accuracy.")
    assert swept.caption == "Every row: point lr=0.1. Accuracy."


def test_a_column_with_one_value_and_a_blank_stays_in_the_table():
    frame = pd.DataFrame({"device": [None, "cpu"], "n": [1, 2]})
    result = table(frame)
    assert result.headers == ["device", "n"] and result.caption == ""


def test_a_single_row_keeps_its_constant_columns():
    result = table(pd.DataFrame({"dataset": ["mnist"], "n": [1]}))
    assert result.headers == ["dataset", "n"] and result.caption == ""


def test_only_the_named_columns_move_to_the_caption():
    frame = pd.DataFrame({"variant": ["mlp", "mlp"], "device": ["cpu", "cpu"]})
    result = table(frame, constant=("device",))
    assert result.headers == ["variant"] and result.caption == "Every row: device cpu."


def test_booleans_text_and_missing_text_are_plain_cells():
    frame = pd.DataFrame(
        {"flagged": [True, False], "note": ["lr 0.05", None], "x": [math.nan, 1.0]}
    )
    frame["note"] = frame["note"].astype(object)
    result = table(frame)
    assert result.rows[0][0] == Cell("True") and result.rows[1][0] == Cell("False")
    assert result.rows[0][1] == Cell("lr 0.05") and result.rows[1][1] == Cell("")
    assert result.rows[0][2] == Cell("", "", numeric=True)
    assert result.rows[1][2] == Cell("1", repr(1.0), numeric=True)


def test_a_float_nan_in_a_text_column_is_blank():
    result = table(pd.DataFrame({"note": ["a", float("nan")]}, dtype=object))
    assert [row[0] for row in result.rows] == [Cell("a"), Cell("")]


def test_the_templates_escape_every_value_and_refuse_undefined_names():
    env = environment()
    page = env.from_string("<p>{{ note }}</p>").render(note="<script>x</script>")
    assert page == "<p>&lt;script&gt;x&lt;/script&gt;</p>"
    with pytest.raises(jinja2.UndefinedError):
        env.from_string("{{ missing }}").render()
    # block tags take their line with them: indented templates render without stray blanks
    assert env.from_string("  {% if 1 %}\na\n  {% endif %}\nb").render() == "a\nb"
    assert env.get_template("report.html.j2") is not None
