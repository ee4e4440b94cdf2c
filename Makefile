# The two commands: `make dev` runs the backend locally, `make test` runs the whole suite.
# Both work on a fresh machine with Python 3.11, pip, git and make: everything else
# (Postgres, the AWS emulator) is pip-installed into .venv by the first run.

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export PYTHONPATH := $(CURDIR):$(CURDIR)/functions:$(CURDIR)/layers/tenancy

.PHONY: dev token test lint bench bench-service package openapi template rotate-diner-keys platform-admin clean

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

test: $(STAMP)
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy functions layers/tenancy/tenancy infra bench tests
	$(BIN)/cfn-lint template.yaml

bench: $(STAMP)
	$(BIN)/python -m bench

# The venue service's reads at volume (about 1,000,000 orders); not part of `make test`.
bench-service: $(STAMP)
	$(BIN)/python -m bench.service

openapi: $(STAMP)
	$(BIN)/python -m infra.openapi > docs/openapi.json

# Rewrites the functions and their parameters in template.yaml from the route declarations.
template: $(STAMP)
	$(BIN)/python -m infra.functions_template

# Re-seals every diner's dietary record under the active app key (the first of APP_KEYS, or
# of the secret APP_KEYS_SECRET_ARN names), with ADMIN_DATABASE_URL: see infra/rotate_diner_keys.py.
rotate-diner-keys: $(STAMP)
	$(BIN)/python -m infra.rotate_diner_keys

# Grants or revokes the platform-admin flag (never a route), audited:
#   ADMIN_DATABASE_URL=... make platform-admin ACTION=grant EMAIL=ops@example.com
platform-admin: $(STAMP)
	$(BIN)/python -m infra.platform_admin $(ACTION) $(EMAIL)

package: $(STAMP)
	sam build --template template.yaml

clean:
	rm -rf $(VENV) .dev .aws-sam .pytest_cache .mypy_cache .ruff_cache
