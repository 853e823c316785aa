# trustscan: `make demo` to see it work, `make test` to check it.
# Everything installs into .venv from requirements.lock (hashes required).

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: setup demo test lint pytest record lock lock-action bench eval compare-resolver clean

setup: $(STAMP)

$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r requirements.lock
	$(BIN)/python -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation -e .
	touch $(STAMP)

# A real scan of this project's own lockfile against the live index.
# The verdict is shown, not enforced: `make demo` succeeds whatever it is.
demo: setup
	-$(BIN)/trustscan scan requirements.lock

lint: setup
	$(BIN)/ruff check scanner tui tests scripts bench
	$(BIN)/ruff format --check scanner tui tests scripts bench
	$(BIN)/mypy
	$(BIN)/lint-imports

pytest: setup
	$(BIN)/pytest -q

test: lint pytest

# Re-record the local test index from the live index (see tests/data/index/SOURCES.md).
record: setup
	$(BIN)/python scripts/record.py

# Speed against the network floor and pip-audit (prints a table; needs the live index once).
bench: setup
	$(BIN)/python bench/run.py

# Precision and recall of the signals on the labelled set (tests/data/eval; online).
eval: setup
	$(BIN)/python scripts/eval.py

# trustscan's resolver against `uv pip compile` on the corpus pyproject files (online).
compare-resolver: setup
	$(BIN)/python scripts/compare_resolver.py

# Re-lock this project's own dependencies, with hashes.
lock: setup
	$(BIN)/uv pip compile pyproject.toml --extra dev --generate-hashes --universal \
		--python-version 3.11 -o requirements.lock

# Re-lock what the GitHub Action installs (trustscan's runtime dependencies and its
# build backend), with hashes.
lock-action: setup
	$(BIN)/uv pip compile pyproject.toml scripts/action-build.in --generate-hashes --universal \
		--python-version 3.11 -o action-requirements.lock

clean:
	rm -rf $(VENV) .mypy_cache .pytest_cache .ruff_cache
