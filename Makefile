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
# `make fuzz`: a database and Redis dbs of its own (the live server it fuzzes gets <db>_live and FUZZ_SERVER_REDIS_DB).
FUZZ_PG_URL ?= postgresql+asyncpg://postgres@127.0.0.1:5432/livecommerce_fuzz
FUZZ_REDIS_URL ?= redis://127.0.0.1:6379/12
FUZZ_SERVER_REDIS_DB ?= 13
FUZZ_SEED ?=

.PHONY: run test fuzz lint migrate demo screenshots soak clean

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

# 15-20 minutes of fuzzing on PostgreSQL + Redis; prints the seed (replay: make fuzz FUZZ_SEED=...).
fuzz: $(STAMP)
	$(BIN)/python -m tests.fuzz.services --pg-url '$(FUZZ_PG_URL)' --redis-url '$(FUZZ_REDIS_URL)'
	LIVECOMMERCE_FUZZ=full FUZZ_SEED='$(FUZZ_SEED)' LIVECOMMERCE_TEST_DATABASE_URL='$(FUZZ_PG_URL)' \
	LIVECOMMERCE_TEST_REDIS_URL='$(FUZZ_REDIS_URL)' LIVECOMMERCE_FUZZ_REDIS_DB='$(FUZZ_SERVER_REDIS_DB)' \
	$(BIN)/python -m pytest -q -p no:cacheprovider -m fuzz tests/fuzz $(PYTEST_ARGS)

screenshots: demo
	$(BIN)/python docs/screenshots.py

# About 7 minutes: two workers on a private PostgreSQL and Redis, steady traffic and a timeline of faults; exits 1
# when a gate fails (docs/soak.md). SOAK_ARGS="--minutes 1" for a short run.
soak: $(STAMP)
	PYTHONPATH=. $(BIN)/python bench/soak.py $(SOAK_ARGS)

clean:
	rm -rf $(VENV) $(DATA_DIR) .pytest_cache .ruff_cache
