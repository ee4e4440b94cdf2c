# The two commands: `make dev` runs the backend locally, `make test` runs the whole suite.
# Both work on a fresh machine with Python 3.11, pip, git and make: everything else
# (Postgres, the AWS emulator) is pip-installed into .venv by the first run.

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export PYTHONPATH := $(CURDIR):$(CURDIR)/functions:$(CURDIR)/layers/tenancy

.PHONY: dev token test lint bench bench-service bench-audit audit-verify audit-dlq package openapi template rotate-diner-keys clean

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

# Audit events consumed per second, as a ratio of plain inserts (docs/benchmarks.md).
bench-audit: $(STAMP)
	$(BIN)/python -m bench.audit_throughput

# Is a venue's audit trail intact? VENUE=<venue id> or platform; ARGS=--list shows every row
# and its copy, ARGS=--bucket-only verifies the bucket alone. Reads the running `make dev`
# unless AUDIT_DATABASE_URL and AUDIT_BUCKET_NAME say where (infra/audit_local.py).
audit-verify:
	@test -x $(BIN)/python || { echo "run \`make dev\` (or \`make test\`) first" >&2; exit 2; }
	@test -n "$(VENUE)" || { echo "usage: make audit-verify VENUE=<venue id|platform> [ARGS=--list]" >&2; exit 2; }
	@$(BIN)/python -m infra.audit_verify $(VENUE) $(ARGS)

# The audit queue's dead letters: list them, or ACTION=redrive to send them back.
audit-dlq:
	@test -x $(BIN)/python || { echo "run \`make dev\` (or \`make test\`) first" >&2; exit 2; }
	@$(BIN)/python -m infra.audit_dlq $(or $(ACTION),list)

openapi: $(STAMP)
	$(BIN)/python -m infra.openapi > docs/openapi.json

# Rewrites the functions and their parameters in template.yaml from the route declarations.
template: $(STAMP)
	$(BIN)/python -m infra.functions_template

# Re-seals every diner's dietary record under the active app key (the first of APP_KEYS, or
# of the secret APP_KEYS_SECRET_ARN names), with ADMIN_DATABASE_URL: see infra/rotate_diner_keys.py.
rotate-diner-keys: $(STAMP)
	$(BIN)/python -m infra.rotate_diner_keys

package: $(STAMP)
	sam build --template template.yaml

clean:
	rm -rf $(VENV) .dev .aws-sam .pytest_cache .mypy_cache .ruff_cache
