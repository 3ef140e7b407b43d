# A seed plan's look at one (dataset, variant, point) cell: a checkpoint, so that Snakemake
# re-plans the DAG from what it decided (input functions in seed_plan.smk).


wildcard_constraints:
    seeds=r"\d+",


checkpoint decide_seeds:
    input:
        get_look_inputs,
    output:
        LOOK,
    log:
        "logs/seed_plan/{dataset}/{variant}/{point}/after_{seeds}_seeds.log",
    conda:
        "../envs/core.yaml"
    params:
        python=JOB_PYTHON,
        runs=get_look_runs,
        rule=get_seed_rule,
        baseline=config.get("report", {}).get("baseline", "numpy"),
        code=CODE["decide_seeds"],
    shell:
        "{params.python:q} -m mnistbench --log {log:q} decide-seeds {params.runs:q}"
        " --count {wildcards.seeds} --rule {params.rule:q} --baseline {params.baseline:q}"
        " --out {output:q}"
