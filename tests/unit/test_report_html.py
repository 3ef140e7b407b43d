"""The page's number formats by unit, the constant columns moved to captions, escaping."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from mnistbench import report_html as rh


@pytest.mark.parametrize(
    ("value", "digits", "shown"),
    [
        (0.00123456, 3, "0.00123"),
        (12.345, 3, "12.3"),
        (1234.5, 3, "1,234"),  # no decimals, thousands separated, never an exponent
        (0.5, 3, "0.500"),
        (-0.0456, 3, "-0.0456"),
        (9.876, 2, "9.9"),
        (123.0, 1, "123"),
        (0.0, 3, "0"),
        (math.inf, 3, "inf"),
        (math.nan, 3, "nan"),
    ],
)
def test_significant_digits_without_exponent(value, digits, shown):
    assert rh.significant(value, digits) == shown


def test_significant_digits_default_to_three():
    assert rh.significant(3.14159) == "3.14"


@pytest.mark.parametrize(
    ("column", "value", "shown"),
    [
        ("training speed-up over numpy (×, ratio of medians)", 2.2222, "2.22×"),
        ("time ratio", 0.5, "0.50×"),
        ("change (×)", 3.0, "3.00×"),
        ("target test accuracy", 0.97, "0.97"),
        ("test accuracy (fraction)", 0.98765, "0.9877"),
        ("last-epoch train LOSS", 0.35, "0.3500"),
        ("sd over seeds", 0.0014142, "0.0014"),
        ("accuracy change (points)", 0.01, "0.0100"),
        ("training throughput (images/s)", 12345.6, "12,346"),
        ("train peak memory (MiB, resident)", 150.4, "150"),
        ("train time (s, inside backend.train)", 2.3456, "2.35"),
        ("train s/epoch, median", 0.91234, "0.912"),
        ("training seconds to reach it (median)", 1234.5, "1,234"),
        ("predict (µs per test image, median)", 2.0, "2.00"),
        ("training images", 4000.0, "4,000"),
        ("epoch reached (median)", 2.5, "2.50"),
    ],
)
def test_each_unit_has_its_format(column, value, shown):
    assert rh.formatter(column)(value) == shown


def cells(table):
    return [[(c.text, c.sort, c.numeric) for c in row] for row in table.rows]


def test_a_table_formats_numbers_keeps_raw_values_and_blanks_missing_ones():
    frame = pd.DataFrame(
        {
            "backend": ["numpy", None],
            "test accuracy (fraction)": [0.91234, np.nan],
            "epochs": [2, 3],
            "reason": [np.nan, "oom"],
            "diverged": [True, False],
        }
    )
    found = rh.table(frame, caption="Two runs.")
    assert found.headers == ["backend", "test accuracy (fraction)", "epochs", "reason", "diverged"]
    assert found.caption == "Two runs."
    assert cells(found) == [
        [
            ("numpy", "", False),
            ("0.9123", "0.91234", True),
            ("2", "2.0", True),
            ("", "", False),
            ("True", "", False),
        ],
        [
            ("", "", False),
            ("", "", True),
            ("3", "3.0", True),
            ("oom", "", False),
            ("False", "", False),
        ],
    ]


def test_columns_with_one_value_in_every_row_move_to_the_caption():
    frame = pd.DataFrame(
        {
            "dataset": ["mnist", "mnist"],
            "device": ["cpu", "cpu"],
            "seeds": [3, 3],
            "backend": ["numpy", "torch"],
            "variant": ["mlp", "mlp"],  # not among the constant columns: stays
        }
    )
    found = rh.table(frame, caption="Medians.")
    assert found.caption == "Every row: dataset mnist; device cpu; seeds 3. Medians."
    assert found.headers == ["backend", "variant"]
    assert rh.table(frame).caption == "Every row: dataset mnist; device cpu; seeds 3."
    assert rh.table(frame, constant=("device",)).headers == [
        "dataset",
        "seeds",
        "backend",
        "variant",
    ]


def test_a_single_row_and_a_varying_column_keep_their_columns():
    one = rh.table(pd.DataFrame({"dataset": ["mnist"], "backend": ["numpy"]}))
    assert one.headers == ["dataset", "backend"] and one.caption == ""
    two = rh.table(pd.DataFrame({"dataset": ["mnist", "fashion"], "backend": ["a", "b"]}))
    assert two.headers == ["dataset", "backend"] and two.caption == ""


def test_the_templates_escape_every_value_and_fail_on_an_unknown_name():
    env = rh.environment()
    template = env.from_string("  {% if x %}\n<p>{{ x }}</p>\n  {% endif %}\n")
    assert template.render(x="<b>&") == "<p>&lt;b&gt;&amp;</p>\n"
    with pytest.raises(Exception, match="'y' is undefined"):
        env.from_string("{{ y }}").render()
    assert env.get_template("report.html.j2").name == "report.html.j2"
