"""What changed between two result folders, run by run, as ``asv compare`` and ``dvc metrics
diff`` show it.

    python -m mnistbench compare results-before results-after --html compare.html

Each folder is what ``aggregate`` wrote (``summary.csv`` in it). Runs are matched by the
aggregate step's run keys (dataset, variant, backend, point, seed): a sweep's run is compared with
the same point's run; a folder from before sweeps holds the ``default`` point only. For each run:
the accuracy change, the ratio of seconds per epoch and of predict time (after / before), the
hyperparameters that differ, and whether a change is larger than noise
(:mod:`mnistbench.report.significance`).

As asv does, a change is flagged when it is both past its threshold and significant: accuracy
moved by more than ``--threshold`` (a fraction of the test set) with McNemar's exact test on
the run's predictions significant at ``--alpha`` after Benjamini-Hochberg; train or predict time
beyond ``--time-threshold`` either way (1.5: slower than 1.5x or faster than 1/1.5x), as the
ratio of medians over the runs that differ only by seed, with its 95% bootstrap interval over
those runs leaving out 1x. A timing verdict needs two runs or more a side (one process's epochs
are not the run-to-run spread): with one, or where no accuracy test can be made (no predictions
kept), the change is listed under "not tested" and is not a flag. A run is also flagged when its
hyperparameters differ or it is in one folder only. ``--fail-on-flag`` fails on flags only.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from mnistbench import artifacts
from mnistbench.errors import MnistbenchError
from mnistbench.report import significance as sig
from mnistbench.report import statistics as st
from mnistbench.report.aggregate import RUN_KEYS, with_point
from mnistbench.report.html import environment, table
from mnistbench.report.read_tables import read_table
from mnistbench.report.tables import TEXT_COLUMNS, with_derived

FLAG = "⚑"  # marks a flagged run in the table and on the page
ACCURACY_A, ACCURACY_B = "accuracy before", "accuracy after"
CHANGE = "change (accuracy after − before)"
TRAIN_RATIO = "train s/epoch ratio (×, after / before)"
PREDICT_RATIO = "predict time ratio (×, after / before)"
UNTESTED = "past a threshold, not tested"
FLAGGED_EXIT = 3  # the exit status of ``compare --fail-on-flag`` that flags a run (1: an error)


def read_summary(folder: str | Path) -> pd.DataFrame:
    """The runs with a result in ``folder/summary.csv``, with their derived timings."""
    path = Path(folder) / "summary.csv"
    if not path.is_file():
        raise MnistbenchError(f"{folder}: not a results folder (no summary.csv in it)")
    try:
        summary = read_table(path, dtype=TEXT_COLUMNS)
    except (OSError, pd.errors.ParserError, pd.errors.EmptyDataError) as error:
        raise MnistbenchError(f"{path}: cannot read it ({error})") from None
    summary = with_point(summary)
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
    alpha: float = 0.05,
) -> pd.DataFrame:
    """One row per run in either folder: accuracies, change, time ratios, the tests' p and q,
    and why it is flagged."""
    if threshold < 0 or time_threshold < 1 or not 0 < alpha < 1:
        raise MnistbenchError(
            "--threshold must be >= 0, --time-threshold >= 1 and --alpha between 0 and 1"
        )
    columns = ["test_accuracy", "epoch_seconds", "predict_us", "hyperparameters", "predictions"]
    a = read_summary(before).reindex(columns=[*RUN_KEYS, *columns])
    b = read_summary(after).reindex(columns=[*RUN_KEYS, *columns])
    both = a.merge(b, on=RUN_KEYS, how="outer", suffixes=("_a", "_b"), indicator=True)
    both = both.sort_values(RUN_KEYS, ignore_index=True)
    tests = sig.run_tests(both, Path(before), Path(after))
    change = both["test_accuracy_b"] - both["test_accuracy_a"]
    train_ratio = both["epoch_seconds_b"] / both["epoch_seconds_a"]
    predict_ratio = both["predict_us_b"] / both["predict_us_a"]
    timings = {
        "train": sig.timing_tests(both, "epoch_seconds"),
        "predict": sig.timing_tests(both, "predict_us"),
    }
    flags, untested = [], []
    for i, row in both.iterrows():
        why, not_tested = [], []
        if row["_merge"] != "both":
            why.append("only before" if row["_merge"] == "left_only" else "only after")
        if abs(change[i]) > threshold:
            decided, reason = _accuracy_verdict(tests.loc[i], alpha)
            if reason:
                (why if decided else not_tested).append(f"accuracy {change[i]:+.4f} ({reason})")
        for name, found in timings.items():
            timing = found.get(tuple(row[k] for k in sig.TIME_KEYS))
            if timing is None or 1 / time_threshold <= timing.ratio <= time_threshold:
                continue
            text = f"{name} {'slower' if timing.ratio > 1 else 'faster'} {timing.ratio:.2f}×"
            if timing.interval is None:
                not_tested.append(f"{text} ({st.ONE_RUN}, {_runs(timing)})")
            elif timing.changed:
                low, high = timing.interval.low, timing.interval.high
                why.append(f"{text} (95% interval {low:.2f}–{high:.2f}×, {_runs(timing)})")
        hp = changed_hyperparameters(row["hyperparameters_a"], row["hyperparameters_b"])
        if hp and row["_merge"] == "both":
            why.append(hp)
        flags.append(f"{FLAG} " + ", ".join(why) if why else "")
        untested.append(", ".join(not_tested))
    return pd.DataFrame(
        {
            **{k: both[k] for k in RUN_KEYS},
            ACCURACY_A: both["test_accuracy_a"],
            ACCURACY_B: both["test_accuracy_b"],
            CHANGE: change,
            TRAIN_RATIO: train_ratio,
            PREDICT_RATIO: predict_ratio,
            **{c: tests[c] for c in tests.columns},
            "flagged": flags,
            UNTESTED: untested,
        }
    )


def _runs(timing: sig.TimingTest) -> str:
    before, after = timing.runs
    return f"median of {before} and {after} runs"


def _accuracy_verdict(tests: pd.Series, alpha: float) -> tuple[bool, str]:
    """(whether McNemar's test decided, what to say); ``(True, "")`` where it found noise."""
    if pd.isna(tests[sig.ACCURACY_P]):
        return False, tests[sig.UNTESTED].split(": ", 1)[-1] or "not tested"
    if tests[sig.ACCURACY_Q] > alpha:
        return True, ""
    return True, f"exact McNemar p {tests[sig.ACCURACY_P]:.2g}, q {tests[sig.ACCURACY_Q]:.2g}"


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
            "not tested": changes[UNTESTED],
        }
    )
    widths = {c: max(len(c), *(len(v) for v in shown[c])) for c in shown}
    left = ("run", "flagged", "not tested")

    def line(values) -> str:
        cells = [v.ljust(widths[c]) if c in left else v.rjust(widths[c]) for c, v in values]
        return "  ".join(cells).rstrip()

    rows = [line(zip(shown.columns, record)) for record in shown.itertuples(index=False)]
    return "\n".join([line((c, c) for c in shown.columns), *rows]) + "\n"


def legend(changes: pd.DataFrame, threshold: float, time_threshold: float, alpha: float) -> str:
    """What the terminal table's columns mean and how many runs it flags."""
    flagged = int((changes["flagged"] != "").sum())
    untested = int((changes[UNTESTED] != "").sum())
    return (
        f"\n{flagged} of {len(changes)} runs flagged (accuracy moved by more than {threshold:g} "
        f"with q at most {alpha:g}, or train or predict time beyond {time_threshold:g}x either "
        "way with its 95% interval leaving out 1x; other hyperparameters; or in one folder "
        f"only); {untested} past a threshold where no test could be made (not flagged).\n"
        "Tests: accuracy, McNemar's exact test on the run's test-set predictions, q the "
        "Benjamini-Hochberg adjusted p; time, the ratio of medians over the runs of every seed, "
        f"its interval a {st.BOOTSTRAP_METHOD} over those runs, made only with "
        f"{st.SPEED_REPEATS} runs or more a side (one process's epochs are not the run-to-run "
        "spread).\n"
        "before, after: test accuracy (fraction of the test set); train ×: "
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
            untested=int((changes[UNTESTED] != "").sum()),
            methods=st,
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
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Print the comparison; with ``html``, also write it as a page. Returns the table."""
    changes = compare(before, after, threshold, time_threshold, alpha)
    print(text_table(changes), end="")
    print(legend(changes, threshold, time_threshold, alpha))
    if html is not None:
        settings = {"threshold": threshold, "time_threshold": time_threshold, "alpha": alpha}
        page = render(changes, str(before), str(after), settings)
        html = Path(html)
        artifacts.write_atomically(html.parent, html.name, lambda p: p.write_text(page))
    return changes
