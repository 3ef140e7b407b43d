"""The seeds of an experiment: a fixed list, or a rule that adds seeds until each comparison is
decided.

    seeds: [0, 1, 2]                                  # these seeds, every run
    seeds: {first: 3, step: 2, max: 20, until: decided,
            margins: {accuracy: 0.001, speed: 0.05}}  # seeds 0, 1, 2, then two more at a time

Under a rule, every (dataset, variant, point) cell runs its ``first`` seeds, 0 to first - 1; the
workflow then looks at the cell's comparisons with the baseline backend
(:mod:`mnistbench.report.seed_look`) and, while one is undecided, adds ``step`` seeds to every
backend of that cell, up to ``max``. The looks come at fixed seed counts (:meth:`SeedPlan.looks`),
so a rerun finds the same looks, and a decision already made is reused.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from mnistbench.errors import MnistbenchError

UNTIL = ("decided",)  # what a rule adds seeds until: every comparison of the cell decided
MARGINS = {"accuracy": 0.001, "speed": 0.05}  # equivalence margins when the config names none


@dataclass(frozen=True)
class SeedPlan:
    """A stopping rule for seeds; see the module's docstring for each key."""

    first: int
    max: int
    step: int = 1
    until: str = "decided"
    # accuracy: a fraction of the test set; speed: a relative change (0.05: within 5%)
    margins: Mapping[str, float] = field(default_factory=lambda: dict(MARGINS))

    def looks(self) -> list[int]:
        """The seed counts after which the cell's comparisons are looked at: ``first``, then
        every ``step`` more, and ``max`` last."""
        counts = list(range(self.first, self.max, self.step))
        return [*counts, self.max]

    def next_look(self, count: int) -> int | None:
        """The look after ``count`` seeds; None after the last."""
        later = [n for n in self.looks() if n > count]
        return later[0] if later else None

    @property
    def speed_margin(self) -> float:
        """The speed margin on the log scale the comparisons use: log(1 + margin)."""
        return math.log1p(self.margins["speed"])

    def describe(self) -> str:
        """The rule as a user reads it, e.g. ``first 3, then 2 at a time up to 20, until
        decided (margins: accuracy 0.001, speed 5%)``."""
        return (
            f"first {self.first}, then {self.step} at a time up to {self.max}, until {self.until}"
            f" (margins: accuracy {self.margins['accuracy']:g},"
            f" speed {self.margins['speed']:.0%})"
        )


def from_config(seeds: Any) -> SeedPlan | None:
    """The rule the config's ``seeds`` gives, None for a list of seeds (already schema-valid).

    :raises MnistbenchError: one line naming the key, for what the schema cannot say.
    """
    if not isinstance(seeds, Mapping):
        return None
    plan = SeedPlan(
        first=seeds["first"],
        max=seeds["max"],
        step=seeds.get("step", 1),
        until=seeds.get("until", "decided"),
        margins={**MARGINS, **seeds.get("margins", {})},
    )
    if plan.max < plan.first:
        raise MnistbenchError(
            f"config: seeds.max: got {plan.max}, which is below seeds.first ({plan.first})"
        )
    return plan


def first_seeds(seeds: Any) -> list[int]:
    """The seeds every run starts with: the list itself, or a rule's first seeds."""
    plan = from_config(seeds)
    return list(range(plan.first)) if plan else list(seeds)
