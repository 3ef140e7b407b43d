"""The seeds key as users type it: a list keeps its meaning, a mapping is a stopping rule."""

from __future__ import annotations

import pytest

from mnistbench.errors import MnistbenchError
from mnistbench.plan import seed_plan
from tests.plan.test_config import overridden


def test_a_list_of_seeds_is_no_rule_and_its_seeds_are_the_list():
    seeds = overridden("seeds=[0,4]")["seeds"]
    assert seed_plan.from_config(seeds) is None
    assert seed_plan.first_seeds(seeds) == [0, 4]


def test_a_rule_typed_on_the_command_line_becomes_a_plan_with_the_default_margins():
    seeds = overridden("seeds={first: 3, max: 20, until: decided}")["seeds"]
    plan = seed_plan.from_config(seeds)
    assert plan == seed_plan.SeedPlan(first=3, max=20, step=1, until="decided")
    assert plan.margins == {"accuracy": 0.001, "speed": 0.05}
    assert seed_plan.first_seeds(seeds) == [0, 1, 2]


def test_a_margin_typed_alone_keeps_the_others_default():
    seeds = overridden("seeds={first: 2, max: 4, margins: {speed: 0.1}}")["seeds"]
    assert seed_plan.from_config(seeds).margins == {"accuracy": 0.001, "speed": 0.1}


@pytest.mark.parametrize(
    ("first", "step", "most", "looks"),
    [
        (3, 2, 20, [3, 5, 7, 9, 11, 13, 15, 17, 19, 20]),
        (3, 1, 5, [3, 4, 5]),
        (3, 10, 5, [3, 5]),
        (4, 1, 4, [4]),
    ],
)
def test_the_looks_come_every_step_seeds_and_at_the_maximum(first, step, most, looks):
    plan = seed_plan.SeedPlan(first=first, max=most, step=step)
    assert plan.looks() == looks
    assert [plan.next_look(n) for n in looks] == [*looks[1:], None]


def test_the_rule_reads_as_a_sentence():
    plan = seed_plan.SeedPlan(first=3, max=20, step=2)
    assert plan.describe() == (
        "first 3, then 2 at a time up to 20, until decided (margins: accuracy 0.001, speed 5%)"
    )


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("seeds={first: 3}", "config: seeds: got {first: 3}, 'max' is a required property"),
        (
            "seeds={first: 1, max: 5}",
            "config: seeds.first: got 1, it is less than the minimum of 2",
        ),
        ("seeds={first: 3, max: five}", "config: seeds.max: got 'five', which is not an integer"),
        ("seeds={first: 3, max: 5, until: ever}", "config: seeds.until: got 'ever', it is not one"),
        ("seeds={first: 3, max: 5, stepp: 2}", "config: unknown key 'stepp' in seeds (known: "),
        ("seeds={first: 3, max: 5, margins: {speed: -1}}", "config: seeds.margins.speed: got -1,"),
    ],
)
def test_a_wrong_rule_is_one_line_naming_its_key(entry, message):
    with pytest.raises(MnistbenchError) as error:
        overridden(entry)
    assert str(error.value).startswith(message)
    assert "\n" not in str(error.value)


def test_a_maximum_below_the_first_seeds_is_one_line_naming_both():
    seeds = overridden("seeds={first: 5, max: 3}")["seeds"]
    with pytest.raises(MnistbenchError, match=r"^config: seeds.max: got 3, which is below seeds"):
        seed_plan.from_config(seeds)
