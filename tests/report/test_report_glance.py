"""At a glance: one line per variant and point, each claim linked to the table behind it.

The tables are the known ones (:mod:`tests.known`): numpy 2.0 s an epoch on both seeds, torch
1.0 and 0.8 s, so torch is 2.22x numpy's speed.
"""

from __future__ import annotations

import pandas as pd

from mnistbench.report import glance, render, seed_look
from mnistbench.report import statistics as st
from tests import known


def derived(folder, seeds=(0, 1)):
    known.write(folder)
    summary = pd.read_csv(folder / "summary.csv")
    summary[summary["seed"].isin(seeds)].to_csv(folder / "summary.csv", index=False)
    return render.derived_tables(render.read_tables(folder), render.Settings(), folder)


def test_two_seeds_name_the_fastest_backend_with_its_speed_up_and_interval(tmp_path):
    tables = derived(tmp_path)
    [line] = glance.lines(tables, "numpy")
    assert (line.variant, line.point, line.title()) == ("mlp", "default", "mlp")
    speed = next(c for c in line.claims if c.what == "speed")
    row = tables["speed"].set_index("backend").loc["torch"]
    low, high = (
        row["train speed-up 95% interval, low (×)"],
        row["train speed-up 95% interval, high (×)"],
    )
    assert row["train speed-up reading"] == "faster"
    joined = f"{low:.2f}\u2060–\u2060{high:.2f}×"  # a range that never breaks at its dash
    assert speed.text == f"fastest torch 2.22× numpy's speed [95% interval {joined}]"
    assert speed.href == "#speed"


def test_one_seed_makes_no_speed_verdict(tmp_path):
    [line] = glance.lines(derived(tmp_path, seeds=(0,)), "numpy")
    speed = next(c for c in line.claims if c.what == "speed")
    assert speed.text == f"{st.ONE_RUN} (torch ran at 2.00× numpy's speed)"
    assert "fastest" not in speed.text and "interval" not in speed.text


def test_agreement_says_why_a_backend_was_not_tested_and_links_to_the_differences(tmp_path):
    [line] = glance.lines(derived(tmp_path), "numpy")
    agreement = next(c for c in line.claims if c.what == "agreement")
    assert agreement.text == "torch: no predictions kept"  # the known tables keep none
    assert agreement.href == "#differences"


def test_a_new_kind_of_claim_plugs_in_as_one_function(tmp_path):
    def seeds(tables, baseline, key):
        runs = tables["accuracy"]
        runs = runs[(runs["variant"] == key["variant"]) & (runs["point"] == key["point"])]
        return glance.Claim("seeds", f"{runs['seeds'].max()} seeds", "#accuracy")

    [line] = glance.lines(derived(tmp_path), "numpy", [*glance.CLAIM_KINDS, seeds])
    assert [c.what for c in line.claims] == ["speed", "agreement", "seeds"]
    assert line.claims[-1].text == "2 seeds"


def test_a_seed_plan_says_at_a_glance_how_each_cell_stopped(tmp_path):
    tables = derived(tmp_path)
    [line] = glance.lines(tables, "numpy")
    assert "seeds" not in [c.what for c in line.claims]  # no seed plan, no such claim
    look = {"dataset": line.dataset, "variant": "mlp", "point": "default"}
    stopped = seed_look.how_it_stopped({**look, "seeds": 4, "look": 2, "decided": True})
    plan = pd.DataFrame([{**look, "stopped": stopped}])
    [line] = glance.lines({**tables, "seed_plan": plan}, "numpy")
    seeds = next(c for c in line.claims if c.what == "seeds")
    assert (seeds.text, seeds.href) == ("decided after 4 seeds (look 2)", "#seed-plan")


def test_the_page_opens_with_the_lines_each_claim_a_link(tmp_path):
    known.write(tmp_path)
    html = render.render(tmp_path)
    glance_at = html.index('id="glance"')
    assert glance_at < html.index('id="accuracy"') and glance_at < html.index("runs with a result")
    assert '<a href="#speed" class="claim" data-claim="speed">speed</a> fastest torch' in html


def with_autograd_twin(folder, slower: float = 1.5):
    """The known tables plus a torch ``autograd`` twin of each torch run, ``slower`` times its
    seconds per epoch; their derived tables."""
    known.write(folder)
    for name, seconds in (("summary", "train_seconds"), ("history", "seconds")):
        frame = pd.read_csv(folder / f"{name}.csv")
        ways = frame["implementation"].fillna("tuned") if "implementation" in frame else "tuned"
        frame = frame.assign(point=frame.get("point", "default"), implementation=ways)
        twin = frame[frame["backend"] == "torch"].assign(
            point="implementation=autograd", implementation="autograd"
        )
        twin[seconds] = twin[seconds] * slower
        pd.concat([frame, twin]).to_csv(folder / f"{name}.csv", index=False)
    return render.derived_tables(render.read_tables(folder), render.Settings(), folder)


def test_an_implementation_twin_shares_its_points_line_and_says_what_hand_tuning_buys(tmp_path):
    tables = with_autograd_twin(tmp_path)
    [line] = glance.lines(tables, "numpy")
    assert (line.variant, line.point) == ("mlp", "default")
    assert [c.what for c in line.claims] == ["speed", "agreement", "hand-tuning"]
    speed = next(c for c in line.claims if c.what == "speed")
    assert speed.text.startswith("fastest torch tuned 2.22× numpy's speed")
    tuning = line.claims[2]
    assert tuning.href == "#implementations"
    assert tuning.text.startswith("torch autograd took 1.50× tuned's time per epoch [95% interval")
    assert tuning.text.endswith(": slower than tuned")
