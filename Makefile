# c360: `make demo` runs the pipeline on generated sample data, `make test` runs the tests.
# Both create or refresh the virtualenv (.venv) themselves; they need Python 3.11 and Java 17+.

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO := .c360/demo
DEMO_PEOPLE ?= 2000
DEMO_DAYS ?= 2

.PHONY: setup demo test lint dagster-dev check-prereqs browser clean

check-prereqs:
	@command -v $(PYTHON) >/dev/null 2>&1 || { \
	  echo "c360 needs Python 3.11 ($(PYTHON) not found): install it, or run make PYTHON=/path/to/python3.11"; exit 1; }
	@v=$$(java -version 2>&1 | awk -F'"' '/version/ {split($$2, p, "."); print (p[1] == "1" ? p[2] : p[1]); exit}'); \
	if [ -z "$$v" ] || [ "$$v" -lt 17 ]; then \
	  echo "c360 needs Java 17+ for Spark (found: $${v:-none})."; \
	  echo "Install it, e.g.: sudo apt-get install -y openjdk-17-jre-headless   (or set JAVA_HOME)"; exit 1; fi

$(STAMP): pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c requirements.lock -e '.[dev]'
	touch $(STAMP)

setup: check-prereqs $(STAMP) browser

# Headless Chromium for the customer view's browser test (tests/customer_view/test_browser.py):
# Debian's package, driven by Playwright (`playwright install` cannot download offline). Quick
# when it is already there; apt-get needs root (CI containers are).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  echo "installing Debian's chromium for the browser test"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }

demo: setup
	rm -rf $(DEMO)
	$(BIN)/c360 generate --people $(DEMO_PEOPLE) --days $(DEMO_DAYS) --seed 7 \
	  --out $(DEMO)/raw --truth $(DEMO)/truth
	$(BIN)/c360 run --raw $(DEMO)/raw --lakehouse $(DEMO)/lakehouse --truth $(DEMO)/truth
	$(BIN)/c360 segment list --lakehouse $(DEMO)/lakehouse

test: setup lint
	$(BIN)/python -m pytest

lint: setup
	$(BIN)/ruff format --check .
	$(BIN)/ruff check .
	$(BIN)/lint-imports  # the layering contract of pyproject.toml (docs/architecture.md)

dagster-dev: setup
	C360_RAW=$(abspath $(DEMO)/raw) C360_LAKEHOUSE=$(abspath $(DEMO)/lakehouse) \
	  $(BIN)/dagster dev -w workspace.yaml

clean:
	rm -rf $(VENV) .c360 .pytest_cache .ruff_cache
