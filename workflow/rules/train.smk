# Train one (dataset, variant, backend, point, seed) run; Snakemake's benchmark records the job's wall
# time beside the run's own per-epoch timings. The job checkpoints every epoch outside its
# outputs, so a job that was stopped (preempted, timed out, killed) resumes when run again.


rule train_model:
    input:
        **DATASET_FILES,
    output:
        weights=f"{RUN_DIR}/weights.npz",
        history=f"{RUN_DIR}/history.csv",
        info=f"{RUN_DIR}/train.json",
    log:
        LOGS["train"],
    benchmark:
        f"{RUN_DIR}/train_benchmark.tsv"
    priority: get_train_priority
    group:
        get_job_group
    conda:
        get_conda_env
    threads: get_threads
    # What the job needs, for any executor; runtime in minutes (the full mnn run, the longest,
    # takes a few minutes on one CPU core; a job cut at its limit resumes when run again).
    resources:
        runtime=120,
        mem_mb=get_train_mem_mb,
        gpu=get_gpus,
        gpu_model=get_gpu_model,
    params:
        python=JOB_PYTHON,
        data=get_data_folder,
        out=get_out_folder,
        args=get_train_args,
        digests=get_data_digests,
        checkpoint=experiment.CHECKPOINT_DIR,
        code=get_train_code,
    shell:
        "{params.python:q} -m mnistbench --log {log:q} train --threads {threads}"
        " --data {params.data:q} --dataset {wildcards.dataset} --variant {wildcards.variant}"
        " --backend {wildcards.backend} --seed {wildcards.seed} {params.args} {params.digests}"
        " --out {params.out:q} --checkpoint {params.checkpoint:q}"
