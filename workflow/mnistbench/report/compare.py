"""What changed between two result folders, run by run, as ``asv compare`` and ``dvc metrics
diff`` show it.

    python -m mnistbench compare results-before results-after --html compare.html

Each folder is what ``aggregate`` wrote (``summary.csv`` in it). Runs are matched by dataset,
variant, backend and seed. For each run: the accuracy change, the ratio of seconds per epoch and
of predict time (after / before), and the hyperparameters that differ. A run is flagged when its
accuracy moved by more than ``--threshold`` (a fraction of the test set), when a time ratio lies
beyond ``--time-threshold`` either way (1.5: slower than 1.5x or faster than 1/1.5x), when its
hyperparameters differ, or when it is in one folder only.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from mnistbench import artifacts
from mnistbench.errors import MnistbenchError
from mnistbench.report.aggregate import RUN_KEYS
from mnistbench.report.html import environment, table
from mnistbench.report.tables import TEXT_COLUMNS, with_derived

FLAG = "⚑"  # marks a flagged run in the table and on the page
ACCURACY_A, ACCURACY_B = "accuracy before", "accuracy after"
CHANGE = "change (accuracy after − before)"
TRAIN_RATIO = "train s/epoch ratio (×, after / before)"
PREDICT_RATIO = "predict time ratio (×, after / before)"


def read_summary(folder: str | Path) -> pd.DataFrame:
    """The runs with a result in ``folder/summary.csv``, with their derived timings."""
    path = Path(folder) / "summary.csv"
    if not path.is_file():
        raise MnistbenchError(f"{folder}: not a results folder (no summary.csv in it)")
    try:
        summary = pd.read_csv(path, dtype=TEXT_COLUMNS)
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError) as error:
        raise MnistbenchError(f"{path}: cannot read it ({error})") from None
    needed = [*RUN_KEYS, "test_accuracy", "train_seconds", "epochs"]
    missing = [c for c in needed if c not in summary]
    if missing:
        raise MnistbenchError(f"{path}: not a summary table (missing {', '.join(missing)})")
    if "status" in summary:
        summary = summary[summary["status"].fillna("ok") == "ok"]
    return with_derived(summary)


def changed_hyperparameters(before: object, after: object) -> str:
    """``lr 0.1 → 0.05``, one entry per hyperparameter that differs, from the JSON columns."""
    a = json.loads(before) if isinstance(before, str) else {}
    b = json.loads(after) if isinstance(after, str) else {}
    return "; ".join(
        f"{key} {a.get(key, '—')} → {b.get(key, '—')}"
        for key in sorted(set(a) | set(b))
        if a.get(key) != b.get(key)
    )


def compare(
    before: str | Path,
    after: str | Path,
    threshold: float = 0.005,
    time_threshold: float = 1.5,
) -> pd.DataFrame:
    """One row per run in either folder: accuracies, change, time ratios and why it is flagged."""
    if threshold < 0 or time_threshold < 1:
        raise MnistbenchError("--threshold must be >= 0 and --time-threshold >= 1")
    columns = ["test_accuracy", "epoch_seconds", "predict_us", "hyperparameters"]
    a = read_summary(before).reindex(columns=[*RUN_KEYS, *columns])
    b = read_summary(after).reindex(columns=[*RUN_KEYS, *columns])
    both = a.merge(b, on=RUN_KEYS, how="outer", suffixes=("_a", "_b"), indicator=True)
    both = both.sort_values(RUN_KEYS, ignore_index=True)
    change = both["test_accuracy_b"] - both["test_accuracy_a"]
    train_ratio = both["epoch_seconds_b"] / both["epoch_seconds_a"]
    predict_ratio = both["predict_us_b"] / both["predict_us_a"]
    flags = []
    for i, row in both.iterrows():
        why = []
        if row["_merge"] != "both":
            why.append("only before" if row["_merge"] == "left_only" else "only after")
        if abs(change[i]) > threshold:
            why.append(f"accuracy {change[i]:+.4f}")
        for name, ratio in (("train", train_ratio[i]), ("predict", predict_ratio[i])):
            if ratio > time_threshold or ratio < 1 / time_threshold:
                why.append(f"{name} {'slower' if ratio > 1 else 'faster'} {ratio:.2f}×")
        hp = changed_hyperparameters(row["hyperparameters_a"], row["hyperparameters_b"])
        if hp and row["_merge"] == "both":
            why.append(hp)
        flags.append(f"{FLAG} " + ", ".join(why) if why else "")
    return pd.DataFrame(
        {
            **{k: both[k] for k in RUN_KEYS},
            ACCURACY_A: both["test_accuracy_a"],
            ACCURACY_B: both["test_accuracy_b"],
            CHANGE: change,
            TRAIN_RATIO: train_ratio,
            PREDICT_RATIO: predict_ratio,
            "flagged": flags,
        }
    )


def text_table(changes: pd.DataFrame) -> str:
    """The comparison as aligned plain text, flagged runs marked, for the terminal."""
    shown = pd.DataFrame(
        {
            "run": changes[RUN_KEYS].astype(str).agg("/".join, axis=1),
            "before": changes[ACCURACY_A].map(_fixed(4)),
            "after": changes[ACCURACY_B].map(_fixed(4)),
            "change": changes[CHANGE].map(lambda v: "" if pd.isna(v) else f"{v:+.4f}"),
            "train ×": changes[TRAIN_RATIO].map(_fixed(2)),
            "predict ×": changes[PREDICT_RATIO].map(_fixed(2)),
            "flagged": changes["flagged"],
        }
    )
    widths = {c: max(len(c), *(len(v) for v in shown[c])) for c in shown}
    left = ("run", "flagged")

    def line(values) -> str:
        cells = [v.ljust(widths[c]) if c in left else v.rjust(widths[c]) for c, v in values]
        return "  ".join(cells).rstrip()

    rows = [line(zip(shown.columns, record)) for record in shown.itertuples(index=False)]
    return "\n".join([line((c, c) for c in shown.columns), *rows]) + "\n"


def legend(changes: pd.DataFrame, threshold: float, time_threshold: float) -> str:
    """What the terminal table's columns mean and how many runs it flags."""
    flagged = int((changes["flagged"] != "").sum())
    return (
        f"\n{flagged} of {len(changes)} runs flagged (accuracy moved by more than {threshold:g}, "
        f"a time ratio beyond {time_threshold:g}x either way, other hyperparameters, or in one "
        "folder only).\nbefore, after: test accuracy (fraction of the test set); train ×: "
        "seconds per training epoch, after / before; predict ×: predict time, after / before "
        "(below 1: faster)."
    )


def _fixed(digits: int):
    return lambda v: "" if pd.isna(v) else f"{v:.{digits}f}"


def render(changes: pd.DataFrame, before: str, after: str, settings: dict) -> str:
    """The comparison as one self-contained HTML page (the report's style and sortable table)."""
    return (
        environment()
        .get_template("compare.html.j2")
        .render(
            before=str(before),
            after=str(after),
            settings=settings,
            flagged=int((changes["flagged"] != "").sum()),
            runs=len(changes),
            changes=table(changes),
        )
    )


def run(
    before: str | Path,
    after: str | Path,
    threshold: float = 0.005,
    time_threshold: float = 1.5,
    html: str | Path | None = None,
) -> pd.DataFrame:
    """Print the comparison; with ``html``, also write it as a page. Returns the table."""
    changes = compare(before, after, threshold, time_threshold)
    print(text_table(changes), end="")
    print(legend(changes, threshold, time_threshold))
    if html is not None:
        settings = {"threshold": threshold, "time_threshold": time_threshold}
        page = render(changes, str(before), str(after), settings)
        html = Path(html)
        artifacts.write_atomically(html.parent, html.name, lambda p: p.write_text(page))
    return changes
