# Two entry points: `make run` (the experiment) and `make test` (the test suite).
# Both create .venv on first use and install mnistbench with its backend plugins.
#   make run CONFIG=config/quick.yaml    # the same DAG in a minute or two
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
CONFIG ?= config/config.yaml
CORES ?= all

.PHONY: run test clean

# torch==2.13.0 is pinned, a CPU build: an open requirement would pull the newest release's
# default Linux wheel, a multi-GB CUDA build.
$(VENV)/.installed: pyproject.toml plugins/*/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet torch==2.13.0 -e '.[test,slurm]' \
		-e plugins/mnistbench-numpy -e plugins/mnistbench-torch -e plugins/mnistbench-jax \
		-e plugins/mnistbench-lenet
	touch $@

run: $(VENV)/.installed
	$(BIN)/snakemake --cores $(CORES) --configfile $(CONFIG)

test: $(VENV)/.installed
	$(BIN)/ruff check workflow plugins tests bench
	$(BIN)/ruff format --check workflow plugins tests bench
	$(BIN)/snakefmt --check Snakefile workflow/
	$(BIN)/snakemake --lint
	$(BIN)/python -m pytest

clean:
	rm -rf results logs checkpoints .snakemake
