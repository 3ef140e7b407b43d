# mnistbench: fetch -> train -> evaluate -> aggregate -> report.
#   snakemake --cores all                                  # the experiment in config/config.yaml
#   snakemake --cores all --configfile config/quick.yaml   # the same DAG in a minute or two

from snakemake.utils import min_version

min_version("9.0")


configfile: "config/config.yaml"


# What `snakemake --report` says the workflow does, above its tables and the HTML report.
report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/seed_plan.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/evaluate.smk"
include: "workflow/rules/seeds.smk"
include: "workflow/rules/report.smk"


# Light steps run where Snakemake runs, even on a cluster: fetching needs the internet that
# compute nodes often lack, and aggregate and report take seconds.
localrules:
    all,
    fetch_dataset_file,
    aggregate_results,
    decide_seeds,
    write_report,


rule all:
    input:
        "results/report.html",
        get_last_looks,  # a seed plan's looks: a changed plan is looked at again (seed_plan.smk)
