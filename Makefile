# LiveCommerce: `make run` serves the demo, `make test` runs every check.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DATA_DIR ?= data
HOST ?= 127.0.0.1
PORT ?= 8000
PG_TEST_URL ?= postgresql+asyncpg://postgres@127.0.0.1:5432/test
REDIS_TEST_URL ?= redis://127.0.0.1:6379/9

.PHONY: run test lint migrate demo screenshots soak clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

# Reinstall only when the package definition changed.
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

migrate: $(STAMP)
	$(BIN)/livecommerce db upgrade

demo: migrate
	$(BIN)/livecommerce demo load

run: demo
	$(BIN)/livecommerce serve --host $(HOST) --port $(PORT)

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/lint-imports

# The whole suite on the embedded defaults, then again on PostgreSQL + Redis when they answer.
test: lint
	$(BIN)/python -m tests.legs --pg-url '$(PG_TEST_URL)' --redis-url '$(REDIS_TEST_URL)' -- $(PYTEST_ARGS)

screenshots: demo
	$(BIN)/python docs/screenshots.py

# About 7 minutes: two workers on a private PostgreSQL and Redis, steady traffic and a timeline of faults; exits 1
# when a gate fails (docs/soak.md). SOAK_ARGS="--minutes 1" for a short run.
soak: $(STAMP)
	PYTHONPATH=. $(BIN)/python bench/soak.py $(SOAK_ARGS)

clean:
	rm -rf $(VENV) $(DATA_DIR) .pytest_cache .ruff_cache
