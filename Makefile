# Two entry points: `make run` (the experiment) and `make test` (the test suite).
# Both create .venv on first use and install mnistbench with its backend plugins.
#   make run CONFIG=config/quick.yaml    # the same DAG in a minute or two
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
CONFIG ?= config/config.yaml
CORES ?= all

# PyTorch is pinned (torch==2.13.0). TORCH=cpu, the default, installs its CPU build from
# PyTorch's own index (a 190 MB wheel on Linux). TORCH=cuda installs the wheel PyPI serves, which
# on Linux is the CUDA build: with the NVIDIA libraries it depends on, several GB. (On macOS and
# Windows both are the same CPU wheel.)
#   make TORCH=cuda test
TORCH ?= cpu
TORCH_INDEX_cpu := --index-url https://download.pytorch.org/whl/cpu
TORCH_INDEX_cuda :=
ifeq ($(filter $(TORCH),cpu cuda),)
$(error TORCH must be cpu or cuda, not '$(TORCH)')
endif

.PHONY: run test clean

# torch alone first, from the index TORCH names (--no-deps: only torch comes from there); the
# second install keeps that build and brings torch's own dependencies from PyPI.
$(VENV)/.installed: pyproject.toml plugins/*/pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --no-deps torch==2.13.0 $(TORCH_INDEX_$(TORCH))
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
