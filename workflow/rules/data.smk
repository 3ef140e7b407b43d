# Fetch every dataset file from its mirrors; the output exists only once its digest matched.


rule fetch_dataset_file:
    output:
        ensure("resources/{dataset}/{role}.idx", sha256=lambda w: get_dataset_file(w)["sha256"]),
    params:
        args=get_fetch_args,
    log:
        "logs/fetch/{dataset}/{role}.log",
    shell:
        "{PYTHON} -m mnistbench --log {log} fetch {params.args} --out {output}"
