# mnistbench: fetch -> train -> evaluate -> aggregate -> report.
#   snakemake --cores all                                  # the experiment in config/config.yaml
#   snakemake --cores all --configfile config/quick.yaml   # the same DAG in a minute or two


configfile: "config/config.yaml"


include: "workflow/rules/common.smk"
include: "workflow/rules/data.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/evaluate.smk"
include: "workflow/rules/report.smk"


rule all:
    input:
        "results/report.html",
