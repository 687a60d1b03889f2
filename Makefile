# Every target installs what it needs into .venv first (a fresh machine has only
# Python 3.11 and pip).
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
WORKERS ?= 2

.PHONY: install demo test test-unit test-integration lint-imports bench calibrate-real validate-literature clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[test]"
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

## Fit and forecast every eligible real anode-free Cu||LFP cell; writes validation/real_cells.*
calibrate-real: $(STAMP)
	$(BIN)/python experiments/validate_real_cells.py

## Run the published cases of validation/literature/*.toml; writes validation/literature.*
validate-literature: $(STAMP)
	$(BIN)/python experiments/validate_literature.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache
