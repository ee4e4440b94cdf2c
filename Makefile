# The two commands: `make dev` runs the backend locally, `make test` runs the whole suite.
# Both work on a fresh machine with Python 3.11, pip, git and make: everything else
# (Postgres, the AWS emulator) is pip-installed into .venv by the first run.

PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export PYTHONPATH := $(CURDIR):$(CURDIR)/functions:$(CURDIR)/layers/tenancy

SAM_VENV := .venv-sam
SAM := $(SAM_VENV)/bin/sam
SAM_STAMP := $(SAM_VENV)/.installed

.PHONY: dev token mail pay demo-checkout payments-events payments-replay browser pgbouncer test test-package lint audit-deps campaign bench bench-capacity bench-sign-in bench-service bench-package bench-audit bench-payments audit-verify audit-dlq package openapi template rotate-diner-keys platform-admin clean

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

# The mail `make dev` sent (password-reset links, invitations): every message, or those to TO.
mail:
	@test -x $(BIN)/python || { echo "start \`make dev\` first" >&2; exit 2; }
	@$(BIN)/python -m infra.local.mailbox $(TO)

# Pays a PaymentIntent on `make dev`'s fake Stripe, as the buyer's browser would (Stripe
# Elements): PI=pi_... [CARD=declined].
pay:
	@test -x $(BIN)/python || { echo "start \`make dev\` first" >&2; exit 2; }
	@test -n "$(PI)" || { echo "usage: make pay PI=<payment intent id> [CARD=declined]" >&2; exit 2; }
	@$(BIN)/python -m infra.local.fake_stripe pay $(PI) $(if $(CARD),--card $(CARD))

# The headless browser of the end-to-end tests: Debian's chromium and its driver, installed
# when missing and apt-get can (as root). Never fatal: without it that test skips, saying so.
browser:
	@command -v chromium >/dev/null 2>&1 && command -v chromedriver >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing chromium and chromium-driver for the browser test ..."; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	      chromium chromium-driver) >/dev/null 2>&1 || echo "could not install Chromium"; \
	  else echo "no Chromium (and no apt-get as root): the browser test will skip"; fi; }

# The transaction-mode pooler of the pooler test (standing in for RDS Proxy): Debian's
# pgbouncer, installed when missing and apt-get can (as root). Never fatal: without it that
# test skips, saying so.
pgbouncer:
	@command -v pgbouncer >/dev/null 2>&1 || test -x /usr/sbin/pgbouncer || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing pgbouncer for the pooler test ..."; \
	    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	      --no-install-recommends pgbouncer) >/dev/null 2>&1 || echo "could not install pgbouncer"; \
	  else echo "no pgbouncer (and no apt-get as root): the pooler test will skip"; fi; }

# Also installs the SAM CLI (.venv-sam): the suite runs a full `sam build`.
test: $(STAMP) $(SAM_STAMP) browser pgbouncer
	SAM=$(CURDIR)/$(SAM) $(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy functions layers/tenancy/tenancy infra bench tests
	$(BIN)/cfn-lint template.yaml
	$(BIN)/bandit -q -c pyproject.toml -r functions layers/tenancy/tenancy infra bench
	@$(MAKE) --no-print-directory audit-deps

# pip-audit over every package installed in .venv (the pinned dependencies and theirs),
# against the advisory database it reads from the package registry. A finding fails; a
# registry out of reach is said and skipped (infra/audit_deps.py).
audit-deps: $(STAMP)
	$(BIN)/python -m infra.audit_deps

# The hostile-input campaigns at full size (at least 10,000 fuzz cases), then
# docs/security-testing.md rendered from their records (.campaign/*.json).
campaign: $(STAMP) pgbouncer
	rm -rf .campaign
	CAMPAIGN_SIZE=full $(BIN)/python -m pytest tests/campaign -q -p no:cacheprovider
	$(BIN)/python -m tests.campaign.report

bench: $(STAMP)
	$(BIN)/python -m bench

# Database milliseconds per request by route family: the input of docs/capacity.md.
bench-capacity: $(STAMP)
	$(BIN)/python -m bench.capacity

# The browser-shaped sign-in against argon2id alone (docs/benchmarks.md, last section).
bench-sign-in: $(STAMP)
	$(BIN)/python -m bench.sign_in_pages

# The venue service's reads at volume (about 1,000,000 orders); not part of `make test`.
bench-service: $(STAMP)
	$(BIN)/python -m bench.service

# The webhook ingress and a checkout as ratios of their bare SQL (docs/benchmarks.md).
bench-payments: $(STAMP)
	$(BIN)/python -m bench.payments

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

# Stripe's stored webhook events: list them by status, or apply one again (audited).
payments-events:
	@test -x $(BIN)/python || { echo "run \`make dev\` (or \`make test\`) first" >&2; exit 2; }
	@$(BIN)/python -m infra.payments_events list $(if $(STATUS),--status $(STATUS))

payments-replay:
	@test -x $(BIN)/python || { echo "run \`make dev\` (or \`make test\`) first" >&2; exit 2; }
	@test -n "$(EVENT)" || { echo "usage: make payments-replay EVENT=evt_..." >&2; exit 2; }
	@$(BIN)/python -m infra.payments_events replay $(EVENT)

# One online order end to end on the running `make dev`: a checkout at centrale, paid in the
# fake Stripe, placed by the signed webhook; prints the order from the queue.
demo-checkout:
	@test -x $(BIN)/python || { echo "start \`make dev\` first" >&2; exit 2; }
	@$(BIN)/python -m infra.local.demo_checkout

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

# Grants or revokes the platform-admin flag (never a route), audited:
#   ADMIN_DATABASE_URL=... make platform-admin ACTION=grant EMAIL=ops@example.com
platform-admin: $(STAMP)
	$(BIN)/python -m infra.platform_admin $(ACTION) $(EMAIL)

# The SAM CLI lives in its own virtualenv: its pins (boto3, pydantic) differ from the runtime's.
$(SAM_STAMP): infra/sam-requirements.txt
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "needs $(PYTHON) on PATH"; exit 1; }
	$(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/pip install --quiet --upgrade pip
	$(SAM_VENV)/bin/pip install --quiet -r infra/sam-requirements.txt
	touch $(SAM_STAMP)

# `sam build` without Docker: python3.11 on this machine builds for the python3.11 runtime,
# and the dependency layer is made of manylinux2014 wheels. The deploy-time functions are
# built by the build-* targets below (BuildMethod: makefile), in the source folder.
package: $(STAMP) $(SAM_STAMP)
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" SAM_CLI_TELEMETRY=0 \
		$(SAM) build --template template.yaml --build-in-source

# The package's own checks alone: the dependency layer's wheels and sizes, and `sam build`.
test-package: $(STAMP) $(SAM_STAMP)
	SAM=$(CURDIR)/$(SAM) $(BIN)/python -m pytest tests/infra/test_package.py

# What each function weighs with its layers (figures in docs/benchmarks.md, "Package sizes").
bench-package: $(STAMP)
	$(BIN)/python -m bench.package_size

# `sam build` runs these for the deploy-time functions (infra/deploy): the custom resources
# and the PreTraffic hook get infra/deploy, infra/migrate.py and infra/migrations; psycopg
# and tenancy come from the layers.
DEPLOY_FUNCTIONS := KeyMaterialFunction MigrationsFunction MigrationsTriggerFunction \
	PreTrafficHookFunction
.PHONY: $(addprefix build-,$(DEPLOY_FUNCTIONS))
$(addprefix build-,$(DEPLOY_FUNCTIONS)):
	mkdir -p "$(ARTIFACTS_DIR)/infra/deploy" "$(ARTIFACTS_DIR)/infra/migrations"
	cp infra/__init__.py infra/migrate.py "$(ARTIFACTS_DIR)/infra/"
	cp infra/deploy/*.py "$(ARTIFACTS_DIR)/infra/deploy/"
	cp infra/migrations/*.sql "$(ARTIFACTS_DIR)/infra/migrations/"

clean:
	rm -rf $(VENV) $(SAM_VENV) .dev .aws-sam .pytest_cache .mypy_cache .ruff_cache .hypothesis .campaign
