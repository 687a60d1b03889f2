# Every target installs what it needs into .venv first (a fresh machine has only
# Python 3.11 and pip).
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
WORKERS ?= 2

.PHONY: install demo test test-unit test-integration lint-imports bench validate-real validate-literature prior library docs clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test,vendors]"
	touch $(STAMP)

install: $(STAMP)

## The main job on embedded defaults: forecast a practical Li||NMC811 pouch design.
demo: $(STAMP)
	$(BIN)/twin predict --np-ratio 2 --areal-capacity 4 --electrolyte-amount 3

## The whole test suite (unit + integration + import layers), in parallel.
test: $(STAMP)
	$(BIN)/lint-imports
	$(BIN)/pytest -n $(WORKERS) -q

test-unit: $(STAMP)
	$(BIN)/pytest -q tests/unit

lint-imports: $(STAMP)
	$(BIN)/lint-imports

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_cycling.py
	$(BIN)/python benchmarks/bench_scale.py

## The API reference (HTML, numpydoc docstrings rendered by pdoc) in docs/api/.
DOC_MODULES := twin twin.api twin.results twin.plots twin.design twin.protocol twin.protocol_files \
	twin.lab_cells twin.strategies twin.calibration.api twin.calibration.recipes twin.calibration.data \
	twin.calibration.synthetic twin.experiments.api
docs: $(STAMP)
	$(BIN)/pip install --quiet -e ".[docs]"
	$(BIN)/pdoc --docformat numpy --output-directory docs/api $(DOC_MODULES)

## Cross-validate the twin's forecasts by cell against empirical baselines; writes validation/real_cells.*
validate-real: $(STAMP)
	$(BIN)/python experiments/validate_cv.py --jobs $(WORKERS)

## Learn the anode-free recipe's population prior from every shared cell (package data)
prior: $(STAMP)
	$(BIN)/python experiments/validate_cv.py --jobs $(WORKERS) --prior-only \
		--write-prior experiments/recipes/anode-free-cu-lfp.prior.json \
		--write-library experiments/recipes/anode-free-cu-lfp.library.npz

## The same (after a physics change, one command): the recipe's library of twin curves and its prior
library: prior

## Run the published cases of validation/literature/*.toml; writes validation/literature.*
validate-literature: $(STAMP)
	$(BIN)/python experiments/validate_literature.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache docs/api
