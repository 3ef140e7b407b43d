# Predict the test set with a run's saved weights and write its metrics.


rule evaluate_model:
    input:
        **DATASET_FILES,
        weights=f"{RUN_DIR}/weights.npz",
        info=f"{RUN_DIR}/train.json",
    output:
        metrics=f"{RUN_DIR}/metrics.json",
        predictions=f"{RUN_DIR}/predictions.csv",
    log:
        LOGS["evaluate"],
    benchmark:
        f"{RUN_DIR}/evaluate_benchmark.tsv"
    group:
        get_job_group
    conda:
        get_conda_env
    threads: get_threads
    # What the job needs, for any executor (runtime in minutes; it takes seconds).
    resources:
        runtime=15,
        mem_mb=get_evaluate_mem_mb,
        gpu=get_gpus,
        gpu_model=get_gpu_model,
    params:
        python=JOB_PYTHON,
        data=get_data_folder,
        run=get_run_folder,
        digests=get_data_digests,
        code=get_evaluate_code,
    shell:
        "{params.python:q} -m mnistbench --log {log:q} evaluate --threads {threads}"
        " --data {params.data:q} --run {params.run:q} {params.digests} --out {output.metrics:q}"
