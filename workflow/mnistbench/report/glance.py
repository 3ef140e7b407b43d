"""At a glance: the report's first screen, one line per variant (and sweep point).

Each line is a list of claims: which backend is fastest and by how much over the baseline,
whether the backends agree on the test images, and what hand-tuning buys where a backend ran
more than one implementation (the runs of every implementation share their point's line).
Each claim is made by one *claim kind*, a function of the report's derived tables
(:func:`mnistbench.report.render.derived_tables`), the baseline and one line's key, and links to
the table behind it. A new kind of claim is one
more function in :data:`CLAIM_KINDS` (or in the ``kinds`` a caller passes): nothing else changes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import pandas as pd

from mnistbench.plan import points
from mnistbench.plan.points import DEFAULT
from mnistbench.report import implementations, order, tables, uncertainty
from mnistbench.report import statistics as st

LINE_KEYS = ["dataset", "variant", "point"]  # one line per value of these
MEDIAN = "train s/epoch, median"


@dataclass(frozen=True)
class Claim:
    """One statement of a line: ``what`` it is about, its ``text``, and ``href``, the anchor
    of the table that holds its numbers."""

    what: str
    text: str
    href: str


@dataclass(frozen=True)
class Line:
    dataset: str
    variant: str
    point: str
    claims: list[Claim]

    def title(self, datasets: int = 1) -> str:
        """``mlp``, ``mlp (batch_size=64)``, with `` on fashion`` where datasets differ."""
        point = "" if self.point == DEFAULT else f" ({self.point})"
        return self.variant + point + (f" on {self.dataset}" if datasets > 1 else "")


ClaimKind = Callable[[Mapping[str, pd.DataFrame], str, dict], "Claim | None"]


LINE_POINT = "line point"  # a row's point, its implementation aside: the line it belongs to


def _with_line_point(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with :data:`LINE_POINT`, worked out once per distinct point."""
    if "point" not in frame:
        return frame
    named = {p: points.without(p, "implementation") for p in frame["point"].unique()}
    return frame.assign(**{LINE_POINT: frame["point"].map(named)})


def _rows(frame: pd.DataFrame, key: dict) -> pd.DataFrame:
    for column, value in key.items():
        column = LINE_POINT if column == "point" and LINE_POINT in frame else column
        frame = frame[frame[column] == value] if column in frame else frame
    return frame


def _label(row: pd.Series, rows: pd.DataFrame) -> str:
    """The backend, with its implementation where the line has several of that backend, and
    its device where the line has runs on several."""
    label = str(row["backend"])
    if "implementation" in rows:
        ways = rows.loc[rows["backend"] == row["backend"], "implementation"]
        label += f" {row['implementation']}" if ways.nunique() > 1 else ""
    several = "device" in rows and rows["device"].nunique() > 1
    return f"{label} on {row['device']}" if several else label


def _interval(row: pd.Series, what: str = "train") -> str:
    low = row.get(f"{what} speed-up {uncertainty.LOW} (×)")
    high = row.get(f"{what} speed-up {uncertainty.HIGH} (×)")
    # word joiners: the range never breaks across lines at its dash
    joined = f"{low:.2f}\u2060–\u2060{high:.2f}×"
    return "" if pd.isna(low) or pd.isna(high) else f" [95% interval {joined}]"


def speed_claim(derived: Mapping[str, pd.DataFrame], baseline: str, key: dict) -> Claim | None:
    """The fastest backend by median seconds per epoch, and its speed-up over ``baseline``
    with its interval; where the interval holds 1×, "no measurable difference"; with one run
    a side, no verdict (:func:`~mnistbench.report.statistics.speed_verdict_possible`)."""
    rows = _rows(derived["speed"], key).dropna(subset=[MEDIAN])
    speedup = tables.SPEEDUP.format(baseline)
    if len(rows) < 2 or baseline not in set(rows["backend"]):
        return None
    others = rows[rows["backend"] != baseline].sort_values(MEDIAN)
    fastest = rows.sort_values(MEDIAN).iloc[0]
    shown = others.iloc[0]  # the fastest other backend: the one the speed-up is about
    name, ratio = _label(shown, rows), shown[speedup]
    reading = shown["train speed-up reading"]
    measured = f"{name} {ratio:.2f}× {baseline}'s speed{_interval(shown)}"
    if reading == st.ONE_RUN:
        text = f"{st.ONE_RUN} ({name} ran at {ratio:.2f}× {baseline}'s speed)"
    elif reading == uncertainty.NO_DIFFERENCE:
        text = f"no measurable difference ({measured})"
    elif fastest["backend"] == baseline:
        text = f"fastest {baseline}; next {measured}"
    else:
        text = f"fastest {measured}"
    return Claim("speed", text, "#speed")


def agreement_claim(derived: Mapping[str, pd.DataFrame], baseline: str, key: dict) -> Claim | None:
    """Whether the backends agree with ``baseline`` on the test images: the same prediction for
    every image, no significant difference, or each significant difference with its size and q."""
    rows = _rows(derived["differences"], key)
    if rows.empty:
        return None
    difference = uncertainty.DIFFERENCE.format(baseline)
    tested = rows[rows[uncertainty.P_MCNEMAR].notna()]
    untested = rows[rows[uncertainty.P_MCNEMAR].isna()]
    said = []
    if len(tested) and (tested["reading"] == uncertainty.SAME_PREDICTIONS).all():
        said.append(f"the same prediction as {baseline} for every image")
    elif len(tested):
        significant = tested[tested["reading"].str.contains("accurate than")]
        for _, row in significant.iterrows():
            low, high = row[f"difference {uncertainty.LOW}"], row[f"difference {uncertainty.HIGH}"]
            said.append(
                f"{row['backend']} {row['reading']} by {abs(row[difference]):.4f} "
                f"[95% interval {low:+.4f} to {high:+.4f}], q {row[uncertainty.Q_BH]:.2g}"
            )
        if significant.empty:
            smallest = tested[uncertainty.Q_BH].min()
            said.append(f"no significant difference from {baseline} (smallest q {smallest:.2g})")
    said += [f"{b}: {why}" for b, why in zip(untested["backend"], untested["reading"])]
    return Claim("agreement", "; ".join(said), "#differences")


def seeds_claim(derived: Mapping[str, pd.DataFrame], baseline: str, key: dict) -> Claim | None:
    """How a seed plan stopped for the line's cell ("decided after 4 seeds (look 2)"); None
    without a seed plan (``derived["seed_plan"]``: :func:`mnistbench.report.seed_look.summary`)."""
    rows = _rows(derived.get("seed_plan", pd.DataFrame()), key)
    if rows.empty:
        return None
    return Claim("seeds", str(rows["stopped"].iloc[0]), "#seed-plan")


def hand_tuning_claim(
    derived: Mapping[str, pd.DataFrame], baseline: str, key: dict
) -> Claim | None:
    """For each backend run in more than one way, each other implementation's time per epoch
    against ``tuned``'s, with its interval, or no verdict with one run a side."""
    rows = _rows(derived.get("implementations", pd.DataFrame()), key)
    said = []
    for _, row in rows[rows["implementation"] != implementations.REFERENCE].iterrows():
        ratio = row[implementations.RATIO]
        low, high = row[f"ratio {uncertainty.LOW} (×)"], row[f"ratio {uncertainty.HIGH} (×)"]
        text = f"{row['backend']} {row['implementation']} took {ratio:.2f}× tuned's time per epoch"
        reading = row[implementations.READING]
        if pd.isna(low) or pd.isna(high):
            said.append(f"{text} ({reading})")
        else:
            said.append(f"{text} [95% interval {low:.2f}\u2060–\u2060{high:.2f}×]: {reading}")
    return Claim("hand-tuning", "; ".join(said), "#implementations") if said else None


CLAIM_KINDS: list[ClaimKind] = [speed_claim, agreement_claim, hand_tuning_claim, seeds_claim]


def lines(
    derived: Mapping[str, pd.DataFrame], baseline: str, kinds: Sequence[ClaimKind] = CLAIM_KINDS
) -> list[Line]:
    """One :class:`Line` per dataset, variant and point of the runs, in the report's order
    (points numerically), each with the claims ``kinds`` make of it."""
    groups = derived["accuracy"].reindex(columns=LINE_KEYS)
    groups = _with_line_point(groups)
    groups = groups.assign(point=groups[LINE_POINT])[LINE_KEYS].drop_duplicates()
    derived = {name: _with_line_point(frame) for name, frame in derived.items()}
    found = []
    for record in order.sorted_rows(groups).to_dict("records"):
        claims = [c for kind in kinds if (c := kind(derived, baseline, record)) is not None]
        found.append(Line(record["dataset"], record["variant"], record["point"], claims))
    return found
