# The seed plan's input functions (its checkpoint is in seeds.smk). Where seeds is a stopping
# rule, {first: 3, max: 20, until: decided}, each (dataset, variant, point) cell runs its first
# seeds; a checkpoint then looks at the cell's comparisons with the baseline, and Snakemake
# re-plans the DAG from what it decided: more seeds for the cell, or none. With a list of seeds
# there is no look and every run is planned up front, as before.

import dataclasses

from snakemake.exceptions import IncompleteCheckpointException

from mnistbench.plan import seed_plan
from mnistbench.plan.experiment import Run

SEED_PLAN = seed_plan.from_config(config["seeds"])
LOOK = "results/seed_plan/{dataset}/{variant}/{point}/after_{seeds}_seeds.json"
# The backends of each cell, from the runs of its first seeds.
CELLS = {}
for first_run in EXPERIMENT.runs:
    cell = (first_run.dataset, first_run.variant, first_run.point)
    CELLS.setdefault(cell, set()).add(first_run.backend)


def cell_runs(cell, count):
    """The runs of every backend of ``cell`` with seeds 0 to ``count`` - 1."""
    dataset, variant, point = cell
    backends = sorted(CELLS[cell])
    return [Run(dataset, variant, b, point, seed) for b in backends for seed in range(count)]


def seeds_so_far(cell):
    """(seeds the cell has run so far or will run next, the look file due next or None).

    Walks the cell's looks in order, reading each decision: Snakemake's checkpoint mechanism
    raises IncompleteCheckpointException at the first look not yet made, whose file is then due.
    """
    dataset, variant, point = cell
    count = SEED_PLAN.first
    while True:
        try:
            look = checkpoints.decide_seeds.get(
                dataset=dataset, variant=variant, point=point, seeds=count
            )
        except IncompleteCheckpointException as pending:
            return count, pending.targetfile
        if json.loads(Path(look.output[0]).read_text())["stop"]:
            return count, None
        count = SEED_PLAN.next_look(count)


def planned_runs(pending=True):
    """(every run planned so far, the looks due next): with a list of seeds, the experiment's
    runs; with a seed plan, each cell's seeds up to its latest look. Without ``pending``, looks
    not yet made are left out (for the report after a failed job)."""
    if SEED_PLAN is None:
        return EXPERIMENT.runs, []
    runs, due = [], []
    for cell in sorted(CELLS):
        count, look = seeds_so_far(cell)
        runs += cell_runs(cell, count)
        due += [look] if look and pending else []
    return sorted(runs), due


def run_files(name, pending=True):
    """Every planned run's file ``name``, and the looks due next (they re-plan the DAG)."""
    runs, due = planned_runs(pending)
    return [f"{run.directory}/{name}" for run in runs] + due


def get_last_looks(wildcards):
    """Each cell's last look, for the report (a look still due: its checkpoint target, so that
    the report is re-planned once it is made); none without a seed plan."""
    if SEED_PLAN is None:
        return []
    looks = []
    for dataset, variant, point in sorted(CELLS):
        count, due = seeds_so_far((dataset, variant, point))
        looks.append(due or LOOK.format(dataset=dataset, variant=variant, point=point, seeds=count))
    return looks


def get_look_runs(wildcards):
    """The run folders a look reads: every backend's of the cell, seeds 0 to count - 1."""
    cell = (wildcards.dataset, wildcards.variant, wildcards.point)
    if SEED_PLAN is None or cell not in CELLS:
        raise WorkflowError(f"mnistbench: no seed plan covers {cell}")
    return [run.directory for run in cell_runs(cell, int(wildcards.seeds))]


def get_look_inputs(wildcards):
    """What a look reads from each run: its train.json and kept predictions."""
    return [
        f"{folder}/{name}"
        for folder in get_look_runs(wildcards)
        for name in ("train.json", "predictions.csv")
    ]


def get_seed_rule(wildcards):
    """The seeds rule as JSON for ``decide-seeds``; a parameter, so that a changed one looks
    again."""
    return json.dumps(dataclasses.asdict(SEED_PLAN), sort_keys=True)
