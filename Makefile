# winback: `make` alone lists the targets.
.DEFAULT_GOAL := help
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
CONFIG ?= configs/cdnow.yaml

.PHONY: help install browser postgres train demo test lint format bench clean

help: ## list the targets
	@grep -E '^[a-zA-Z_-]+:.*## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*## "}; {printf "  %-10s %s\n", $$1, $$2}'

$(STAMP): pyproject.toml
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "winback needs Python >= 3.11"'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP) browser postgres ## create .venv and install winback with its test and lint tools

# The report's browser test needs headless Chromium: Debian's package, installed when missing.
browser: ## install headless Chromium (Debian's chromium) when missing, for the report's test
	@command -v chromium >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -q && \
	  $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; }

postgres: ## install Debian's PostgreSQL server (the tests start their own) when initdb is missing
	@command -v initdb >/dev/null || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -q && \
	  $$SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql; }

train: $(STAMP) ## train on the bundled CDNOW data, evaluate against baselines, log to MLflow
	$(BIN)/winback train --config $(CONFIG)

# The README's walkthrough on the demo data: CDNOW orders and SIMULATED customers in data/.
demo: $(STAMP) ## demo data -> train -> score -> export -> report (prints the report's path)
	$(BIN)/winback demo --out data/
	$(BIN)/winback train --config configs/demo.yaml
	$(BIN)/winback score --model models/demo --orders data/orders.csv \
	    --customers data/customers.csv --as-of 1998-06-30 --actions configs/actions.yaml \
	    --out scores.parquet
	$(BIN)/winback export --scores scores.parquet --customers data/customers.csv \
	    --out exports/spring/ --layout mailchimp
	$(BIN)/winback report --model models/demo --scores scores.parquet --orders data/orders.csv \
	    --as-of 1998-06-30 --export exports/spring/ --out reports/
	@echo "report: $$(pwd)/reports/report.html"

test: $(STAMP) browser postgres ## run the test suite (installs Chromium and PostgreSQL when missing)
	$(BIN)/python -m pytest -n 2 --dist loadgroup -q

lint: $(STAMP) ## check style with ruff
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

format: $(STAMP) ## reformat with ruff
	$(BIN)/ruff check --fix src tests bench
	$(BIN)/ruff format src tests bench

bench: $(STAMP) ## run the benchmarks, writing JSON to bench/results/
	$(BIN)/python bench/run_all.py

clean: ## remove the virtualenv and build leftovers (keeps models/ and mlflow.db)
	rm -rf $(VENV) build dist src/*.egg-info .pytest_cache .ruff_cache
