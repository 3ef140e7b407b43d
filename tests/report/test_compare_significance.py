"""``mnistbench compare`` flags by significance, and ``--fail-on-flag`` makes CI fail on a flag.

Result folders come from real training on the MNIST sample (600 training and 300 test images,
one epoch) and the real aggregate step; edits to a copy stand for a change of known size.
"""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from mnistbench.cli import main
from mnistbench.report import compare
from mnistbench.report import significance as sig
from tests.cli import run_cli


def flagged_runs(changes: pd.DataFrame) -> list[tuple[str, int]]:
    flagged = changes[changes["flagged"] != ""]
    return sorted(zip(flagged["variant"], flagged["seed"]))


def copy_with_flips(before, tmp_path, flips: dict[tuple[str, int], int]):
    """A copy of ``before`` where run (variant, seed) gets ``n`` right images wrong."""
    after = tmp_path / "after"
    shutil.copytree(before, after)
    summary = pd.read_csv(after / "summary.csv")
    for (variant, seed), n in flips.items():
        row = (summary["variant"] == variant) & (summary["seed"] == seed)
        path = after / summary.loc[row, "predictions"].item()
        kept = pd.read_csv(path)
        right = np.flatnonzero(kept["label"] == kept["predicted"])[:n]
        kept.loc[right, "predicted"] = (kept.loc[right, "label"] + 1) % 10
        kept.to_csv(path, index=False)
        summary.loc[row, "test_accuracy"] = (kept["label"] == kept["predicted"]).mean()
    summary.to_csv(after / "summary.csv", index=False)
    return after


def test_two_identical_folders_flag_nothing_and_exit_0_with_fail_on_flag(
    before_and_after, tmp_path
):
    before, _ = before_and_after
    same = tmp_path / "same"
    shutil.copytree(before, same)
    changes = compare.compare(before, same)
    assert (changes["flagged"] == "").all()
    assert (changes[sig.ACCURACY_P] == 1.0).all()  # identical predictions
    result = run_cli("compare", str(before), str(same), "--fail-on-flag")
    assert result.returncode == 0, result.stderr
    assert f"0 of {len(changes)} runs flagged" in result.stdout


def test_a_changed_learning_rate_flags_the_runs_whose_predictions_changed_significantly(
    before_and_after,
):
    before, after = before_and_after
    changes = compare.compare(before, after).set_index(["variant", "seed"])
    # worked out here from the kept predictions with scipy, run by run
    summaries = [pd.read_csv(folder / "summary.csv") for folder in (before, after)]
    p = {}
    for (variant, seed), _ in changes.iterrows():
        kept = []
        for folder, summary in zip((before, after), summaries):
            row = summary[(summary["variant"] == variant) & (summary["seed"] == seed)]
            table = pd.read_csv(folder / row["predictions"].item())
            kept.append(table["label"] == table["predicted"])
        only_after = int((kept[1] & ~kept[0]).sum())
        discordant = only_after + int((kept[0] & ~kept[1]).sum())
        p[(variant, seed)] = stats.binomtest(only_after, discordant).pvalue if discordant else 1
    assert changes[sig.ACCURACY_P].to_dict() == pytest.approx(p)
    assert p[("sigmoid_mlp", 0)] == p[("sigmoid_mlp", 1)] == 1  # untouched by the change
    significant = changes[sig.ACCURACY_Q] <= 0.05
    big = changes[compare.CHANGE].abs() > 0.005
    assert significant[("mlp", 0)] and significant[("mlp", 1)], changes[sig.ACCURACY_P]
    accuracy_flags = changes["flagged"].str.contains("accuracy")
    assert accuracy_flags.to_dict() == (significant & big).to_dict()
    assert all("exact McNemar p" in f for f in changes.loc[accuracy_flags, "flagged"])


def test_fail_on_flag_exits_3_on_a_changed_folder_and_prints_each_tests_p(before_and_after):
    result = run_cli("compare", *map(str, before_and_after), "--fail-on-flag")
    assert result.returncode == compare.FLAGGED_EXIT == 3, result.stderr
    flagged = [line for line in result.stdout.splitlines() if compare.FLAG in line]
    assert len(flagged) == 2 and all("exact McNemar p" in line for line in flagged)
    without = run_cli("compare", *map(str, before_and_after))
    assert without.returncode == 0  # the same flags, reported only


def test_an_accuracy_change_past_the_threshold_but_within_noise_is_not_flagged(
    before_and_after, tmp_path
):
    before, _ = before_and_after
    # 3 of 300 images: a change of 0.01 (> 0.005) with p = 2 / 2^3 = 0.25; 12: p = 2 / 2^12
    after = copy_with_flips(before, tmp_path, {("mlp", 0): 3, ("mlp", 1): 12})
    changes = compare.compare(before, after).set_index(["variant", "seed"])
    assert changes.loc[("mlp", 0), sig.ACCURACY_P] == pytest.approx(0.25)
    assert changes.loc[("mlp", 1), sig.ACCURACY_P] == pytest.approx(2 / 2**12)
    assert changes.loc[("mlp", 0), compare.CHANGE] == pytest.approx(-0.01)
    assert flagged_runs(changes.reset_index()) == [("mlp", 1)]
    assert changes.loc[("mlp", 1), "flagged"].startswith(f"{compare.FLAG} accuracy -0.0400 (")


def test_a_lower_alpha_leaves_a_smaller_change_unflagged(before_and_after, tmp_path):
    before, _ = before_and_after
    # 8 flips: p = 2 / 2^8; Benjamini-Hochberg over the 4 runs' tests: q = 4p = 0.03125
    after = copy_with_flips(before, tmp_path, {("mlp", 1): 8})
    assert compare.compare(before, after)[sig.ACCURACY_Q].min() == pytest.approx(8 / 2**8)
    assert flagged_runs(compare.compare(before, after, alpha=0.05)) == [("mlp", 1)]
    assert flagged_runs(compare.compare(before, after, alpha=0.01)) == []


def test_folders_without_predictions_list_the_change_as_not_tested(before_and_after, tmp_path):
    before, _ = before_and_after
    after = copy_with_flips(before, tmp_path, {("mlp", 1): 3})
    for folder in (before, after):  # as an older mnistbench wrote them
        old = tmp_path / f"old-{folder.name}"
        shutil.copytree(folder, old)
        pd.read_csv(old / "summary.csv").drop(columns="predictions").to_csv(
            old / "summary.csv", index=False
        )
    changes = compare.compare(tmp_path / "old-before", tmp_path / "old-after")
    changes = changes.set_index(["variant", "seed"])
    assert changes.loc[("mlp", 1), "flagged"] == ""  # no test: listed, not flagged
    assert changes.loc[("mlp", 1), compare.UNTESTED] == "accuracy -0.0100 (no predictions kept)"
    assert "accuracy: no predictions kept" in changes.loc[("mlp", 0), sig.UNTESTED]


def test_timing_is_tested_over_the_runs_of_every_seed_and_only_with_two_a_side():
    both = pd.DataFrame(
        {
            "dataset": "mnist",
            "variant": "mlp",
            "backend": ["torch"] * 3 + ["numpy"],
            "point": "default",
            "seed": [0, 1, 2, 0],
            "epoch_seconds_a": [1.0, 1.1, 0.9, 2.0],
            "epoch_seconds_b": [2.0, 2.1, 1.9, 2.0],
            "_merge": "both",
        }
    )
    tests = sig.timing_tests(both, "epoch_seconds")
    torch = tests[("mnist", "mlp", "torch", "default")]
    assert torch.ratio == pytest.approx(2.0 / 1.0) and torch.runs == (3, 3)
    assert torch.changed and torch.interval.low > 1.5
    numpy = tests[("mnist", "mlp", "numpy", "default")]
    assert numpy.interval is None and not numpy.changed  # one run a side: no verdict


def test_alpha_outside_zero_and_one_is_one_line_and_exit_1(before_and_after):
    result = run_cli("compare", *map(str, before_and_after), "--alpha", "1.5")
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1].endswith("--alpha between 0 and 1")


def test_main_returns_the_flag_status_to_the_shell(before_and_after):
    assert main(["compare", *map(str, before_and_after), "--fail-on-flag"]) == 3
