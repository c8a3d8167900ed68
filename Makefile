# The two commands a new machine needs: `make run` and `make test`.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test lint format check-migrations engine-check benchmark mutation clean-venv

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.runtime-installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.dev-installed: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.runtime-installed

## run: install, migrate, load the demo review and serve it at http://$(HOST):$(PORT)
run: $(VENV)/.runtime-installed
	HOST=$(HOST) PORT=$(PORT) scripts/run-dev.sh

## test: the whole gate: lint, format, the import contracts (the layers, the engine's purity), migrations and
## the test suite
test: $(VENV)/.dev-installed lint check-migrations
	scripts/services-check.sh
	$(BIN)/pytest

lint: $(VENV)/.dev-installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: $(VENV)/.dev-installed
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

check-migrations: $(VENV)/.dev-installed
	DJANGO_SETTINGS_MODULE=ipdreview.settings.test $(BIN)/python manage.py makemigrations --check --dry-run

## engine-check: the engine against the reference cases computed with R
engine-check: $(VENV)/.dev-installed
	$(BIN)/python tests/data/reference/check.py tests/data/reference/cases

## mutation: mutation testing of the lifecycle, the access functions and the engine's pooling (pyproject.toml,
## [tool.mutmut]; about an hour on 2 cores); `mutmut results` lists the survivors, docs/mutation.md explains them
mutation: $(VENV)/.dev-installed
	scripts/services-check.sh
	rm -rf mutants
	$(BIN)/mutmut run --max-children 1; $(BIN)/mutmut results

## benchmark: engine timings beside R's (R is optional)
benchmark: $(VENV)/.dev-installed
	$(BIN)/python benchmarks/engine.py

clean-venv:
	rm -rf $(VENV)
