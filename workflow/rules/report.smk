# Collect every run into tables, then one self-contained HTML report.


rule aggregate_results:
    input:
        metrics=get_all_metrics,
        benchmarks=get_all_benchmarks,
    output:
        summary=report("results/summary.csv", caption="../report/summary.rst", category="Tables"),
        confusion="results/confusion.csv",
        history="results/history.csv",
        provenance="results/provenance.csv",
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
        report("results/report.html", caption="../report/report.rst", category="Report"),
    params:
        code=CODE["report"],
    log:
        "logs/report.log",
    shell:
        "{PYTHON} -m mnistbench --log {log} report --tables results --out {output}"


onerror:
    write_partial_report()
