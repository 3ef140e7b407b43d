# Train one (dataset, variant, backend, seed) run; Snakemake's benchmark records the job's wall
# time beside the run's own per-epoch timings.


rule train_model:
    input:
        unpack(get_dataset_files),
    output:
        weights=f"{RUN_DIR}/weights.npz",
        history=f"{RUN_DIR}/history.csv",
        info=f"{RUN_DIR}/train.json",
    params:
        args=get_train_args,
        digests=get_data_digests,
        out=RUN_DIR,
        code=get_train_code,
    log:
        LOGS["train"],
    benchmark:
        f"{RUN_DIR}/train_benchmark.tsv"
    threads: config.get("threads", 1)
    shell:
        "OMP_NUM_THREADS={threads} {PYTHON} -m mnistbench --log {log} train"
        " --data resources/{wildcards.dataset} --dataset {wildcards.dataset}"
        " --variant {wildcards.variant} --backend {wildcards.backend} --seed {wildcards.seed}"
        " {params.args} {params.digests} --out {params.out}"
