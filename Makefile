# One command each: `make serve` sets up and runs the mock, `make test` sets up and runs every test.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

.PHONY: setup serve test lint bench clean

$(BIN)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test]'
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

setup: $(BIN)/.installed

serve: setup
	$(BIN)/buildd-api serve $(ARGS)

# one worker per core; tests that share a build directory say so with @pytest.mark.xdist_group
test: setup node_modules/.installed
	$(BIN)/pytest -n auto --dist loadgroup $(ARGS)

# ruff and mypy settings live in pyproject.toml (mypy is strict on mockserver/domain and contracts)
lint: setup node_modules/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy mockserver/domain contracts
	$(BIN)/buildd-api spec lint
	node_modules/.bin/spectral lint openapi.yaml -r .spectral.yaml --fail-severity error

bench: setup
	$(BIN)/python bench/run_all.py $(ARGS)

clean:
	rm -rf $(VENV) node_modules .hypothesis .schemathesis reports
