# Collect every run into tables, then one self-contained HTML report. Every table and the report
# are flagged with report(), so `snakemake --report report.zip` carries them with captions.


rule aggregate_results:
    input:
        metrics=get_all_metrics,
        benchmarks=get_all_benchmarks,
    output:
        summary=report(
            "results/summary.csv", caption="../report/summary.rst", category="Tables"
        ),
        confusion=report(
            "results/confusion.csv", caption="../report/confusion.rst", category="Tables"
        ),
        history=report(
            "results/history.csv", caption="../report/history.rst", category="Tables"
        ),
        provenance=report(
            "results/provenance.csv", caption="../report/provenance.rst", category="Tables"
        ),
    params:
        code=CODE["aggregate"],
    log:
        "logs/aggregate.log",
    shell:
        "{PYTHON} -m mnistbench --log {log} aggregate {input.metrics} --out results"


rule write_report:
    input:
        rules.aggregate_results.output,
    output:
        html=report("results/report.html", caption="../report/report.rst", category="Report"),
        accuracy=report(
            "results/report/accuracy.csv", caption="../report/accuracy.rst", category="Tables"
        ),
        speed=report("results/report/speed.csv", caption="../report/speed.rst", category="Tables"),
        time_to_accuracy=report(
            "results/report/time_to_accuracy.csv",
            caption="../report/time_to_accuracy.rst",
            category="Tables",
        ),
    params:
        code=CODE["report"],
        settings=get_report_args,
    log:
        "logs/report.log",
    shell:
        "{PYTHON} -m mnistbench --log {log} report --tables results --out {output.html}"
        " --csv-dir results/report {params.settings}"


onerror:
    write_partial_report()
