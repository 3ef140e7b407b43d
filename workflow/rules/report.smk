# Collect every run into tables, then one self-contained HTML report. Every table and the report
# are flagged with report(), so `snakemake --report report.zip` carries them with captions.


rule aggregate_results:
    input:
        # Each run's train_benchmark.tsv is read beside its metrics: an output of the train job
        # that metrics.json already waits for, so not listed again (5,000 fewer inputs to match).
        metrics=get_all_metrics,
    output:
        summary=report("results/summary.csv", caption="../report/summary.rst", category="Tables"),
        confusion=report(
            "results/confusion.csv", caption="../report/confusion.rst", category="Tables"
        ),
        history=report("results/history.csv", caption="../report/history.rst", category="Tables"),
        provenance=report(
            "results/provenance.csv", caption="../report/provenance.rst", category="Tables"
        ),
    log:
        "logs/aggregate.log",
    conda:
        "../envs/core.yaml"
    params:
        python=JOB_PYTHON,
        out=lambda wildcards, output: os.path.dirname(output.summary),
        code=CODE["aggregate"],
    shell:
        "{params.python:q} -m mnistbench --log {log:q} aggregate {input.metrics:q}"
        " --out {params.out:q}"


rule write_report:
    input:
        tables=rules.aggregate_results.output,
        planned_out=planned_out.PATH,
        looks=get_last_looks,
    output:
        html=report("results/report.html", caption="../report/report.rst", category="Report"),
        accuracy=report(
            "results/report/accuracy.csv", caption="../report/accuracy.rst", category="Tables"
        ),
        differences=report(
            "results/report/differences.csv",
            caption="../report/differences.rst",
            category="Tables",
        ),
        speed=report("results/report/speed.csv", caption="../report/speed.rst", category="Tables"),
        time_to_accuracy=report(
            "results/report/time_to_accuracy.csv",
            caption="../report/time_to_accuracy.rst",
            category="Tables",
        ),
        implementations=report(
            "results/report/implementations.csv",
            caption="../report/implementations.rst",
            category="Tables",
        ),
    log:
        "logs/report.log",
    conda:
        "../envs/core.yaml"
    params:
        python=JOB_PYTHON,
        tables=lambda wildcards, input: os.path.dirname(input.tables[0]),
        csv_dir=lambda wildcards, output: os.path.dirname(output.speed),
        code=CODE["report"],
        settings=get_report_args,
    shell:
        "{params.python:q} -m mnistbench --log {log:q} report --tables {params.tables:q}"
        " --out {output.html:q} --csv-dir {params.csv_dir:q} {params.settings}"


onerror:
    write_partial_report()
