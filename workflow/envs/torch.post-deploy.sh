#!/usr/bin/env bash
# Snakemake runs this once in the new environment, from its working directory (the repository
# root): the packages of this checkout, whose dependencies torch.yaml lists.
set -euo pipefail
python -m pip install --no-deps -e . -e plugins/mnistbench-torch
