# Collect every run into tables, then one self-contained HTML report.


rule aggregate_results:
    input:
        metrics=get_all_metrics,
        benchmarks=get_all_benchmarks,
    output:
        summary=report("results/summary.csv", caption="../report/summary.rst", category="Tables"),
        confusion=report(
            "results/confusion.csv", caption="../report/confusion.rst", category="Tables"
        ),
        history=report("results/history.csv", caption="../report/history.rst", category="Tables"),
    log:
        "logs/aggregate.log",
    conda:
        "../envs/core.yaml"
    params:
        python=get_python,
        out=lambda wildcards, output: os.path.dirname(output.summary),
        code=CODE["aggregate"],
    shell:
        "{params.python:q} -m mnistbench --log {log:q} aggregate {input.metrics:q}"
        " --out {params.out:q}"


rule write_report:
    input:
        tables=rules.aggregate_results.output,
    output:
        report("results/report.html", caption="../report/report.rst", category="Report"),
    log:
        "logs/report.log",
    conda:
        "../envs/core.yaml"
    params:
        python=get_python,
        tables=lambda wildcards, input: os.path.dirname(input.tables[0]),
        code=CODE["report"],
    shell:
        "{params.python:q} -m mnistbench --log {log:q} report --tables {params.tables:q}"
        " --out {output:q}"


onerror:
    write_partial_report()
