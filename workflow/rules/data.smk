# Fetch every dataset file from its mirrors; the output exists only once its digest matched.


rule fetch_dataset_file:
    output:
        ensure("resources/{dataset}/{role}.idx", sha256=lambda w: get_dataset_file(w)["sha256"]),
    log:
        "logs/fetch/{dataset}/{role}.log",
    conda:
        "../envs/core.yaml"
    params:
        python=JOB_PYTHON,
        args=get_fetch_args,
    shell:
        "{params.python:q} -m mnistbench --log {log:q} fetch {params.args} --out {output:q}"
