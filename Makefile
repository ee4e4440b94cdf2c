# The two commands: `make dev` runs the backend locally, `make test` runs the whole suite.
# Both work on a fresh machine with Python 3.11, pip, git and make: everything else
# (Postgres, the AWS emulator) is pip-installed into .venv by the first run.

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export PYTHONPATH := $(CURDIR):$(CURDIR)/functions:$(CURDIR)/layers/tenancy

.PHONY: dev token mail browser test lint bench bench-sign-in package openapi template clean

$(STAMP): pyproject.toml
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "needs $(PYTHON) on PATH"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet '.[dev]'
	touch $(STAMP)

dev: $(STAMP)
	$(BIN)/python -m infra.local.dev

# Finds `make dev` on PORT, else where the running `make dev` said it listens (.dev/url),
# else on 8787. It installs nothing: `make dev` has done that.
token:
	@test -x $(BIN)/python || { echo "start \`make dev\` first" >&2; exit 2; }
	@$(BIN)/python -m infra.local.token $(USER)

# The mail `make dev` sent (password-reset links): every message, or those to TO.
mail:
	@test -x $(BIN)/python || { echo "start \`make dev\` first" >&2; exit 2; }
	@$(BIN)/python -m infra.local.mailbox $(TO)

# The headless browser of the end-to-end tests: Debian's chromium and its driver, installed
# when missing and apt-get can (as root). Never fatal: without it that test skips, saying so.
browser:
	@command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing chromium and chromium-driver for the browser test ..."; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	      chromium chromium-driver) >/dev/null 2>&1 || echo "could not install Chromium"; \
	  else echo "no Chromium (and no apt-get as root): the browser test will skip"; fi; }

test: $(STAMP) browser
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy functions layers/tenancy/tenancy infra bench tests
	$(BIN)/cfn-lint template.yaml

bench: $(STAMP)
	$(BIN)/python -m bench

# The browser-shaped sign-in against argon2id alone (docs/benchmarks.md, last section).
bench-sign-in: $(STAMP)
	$(BIN)/python -m bench.sign_in_pages

openapi: $(STAMP)
	$(BIN)/python -m infra.openapi > docs/openapi.json

# Rewrites the functions and their parameters in template.yaml from the route declarations.
template: $(STAMP)
	$(BIN)/python -m infra.functions_template

package: $(STAMP)
	sam build --template template.yaml

clean:
	rm -rf $(VENV) .dev .aws-sam .pytest_cache .mypy_cache .ruff_cache
