# Predict the test set with a run's saved weights and write its metrics.


rule evaluate_model:
    input:
        unpack(get_dataset_files),
        weights=f"{RUN_DIR}/weights.npz",
        info=f"{RUN_DIR}/train.json",
    output:
        metrics=f"{RUN_DIR}/metrics.json",
    params:
        run=RUN_DIR,
        digests=get_data_digests,
        code=get_evaluate_code,
    log:
        LOGS["evaluate"],
    threads: config.get("threads", 1)
    shell:
        "OMP_NUM_THREADS={threads} {PYTHON} -m mnistbench --log {log} evaluate"
        " --data resources/{wildcards.dataset} --run {params.run} {params.digests}"
