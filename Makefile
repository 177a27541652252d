# stockpilot — common tasks. `make help` lists them.
SHELL := /usr/bin/env bash
CARGO ?= cargo
BIN := target/debug/stockpilot

# Local PostgreSQL and Redis used by `make test-all` (scripts/ensure-services.sh starts them).
TEST_DATABASE_URL ?= postgres://postgres:postgres@127.0.0.1:5432/postgres
TEST_REDIS_URL ?= redis://127.0.0.1:6379

.PHONY: help run install build release test test-all lint fmt services migrate clean \
	check-deploy test-backup prometheus-e2e fuzz-api backup restore deploy bench first-hour \
	config-reference

help: ## List the targets
	@grep -E '^[a-z0-9-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-15s %s\n", $$1, $$2}'

run: ## Build and serve on the embedded defaults (SQLite in ./data, in-memory cache)
	LOG_FORMAT=$${LOG_FORMAT:-pretty} $(CARGO) run -p stockpilot-server --bin stockpilot -- serve

install: ## Build the release binary and install it as ~/.cargo/bin/stockpilot (CARGO_INSTALL_ROOT=/usr/local for /usr/local/bin)
	$(CARGO) install --locked --path crates/server --bin stockpilot

build: ## Debug build of the binary
	$(CARGO) build -p stockpilot-server --bin stockpilot

release: ## Optimised build: target/release/stockpilot
	$(CARGO) build --release -p stockpilot-server --bin stockpilot

test: ## Every test on SQLite and the in-memory cache; needs no services
	env -u TEST_DATABASE_URL -u TEST_REDIS_URL $(CARGO) test --workspace

test-all: services ## Every test on PostgreSQL and Redis too, the backtest oracles (quantstats, empyrical from PyPI in target/oracle-venv), then the deploy checks, backup round trip, Prometheus end to end, API fuzzing and the installed release binary (first-hour)
	ORACLE_PYTHON="$$(scripts/oracles/venv.sh)" TEST_DATABASE_URL='$(TEST_DATABASE_URL)' TEST_REDIS_URL='$(TEST_REDIS_URL)' $(CARGO) test --workspace
	$(CARGO) build -q -p stockpilot-server --bin stockpilot
	scripts/check-deploy.sh
	TEST_DATABASE_URL='$(TEST_DATABASE_URL)' TEST_REDIS_URL='$(TEST_REDIS_URL)' scripts/test-backup-restore.sh
	scripts/prometheus-e2e.sh
	FUZZ_BIN=$(BIN) scripts/fuzz-api.sh
	$(MAKE) --no-print-directory first-hour

first-hour: ## The installed release binary, started from an empty directory with no configuration: demo bars, a research run, zero-valued metrics
	root=$$(mktemp -d) && trap 'rm -rf "$$root"' EXIT && \
	CARGO_INSTALL_ROOT="$$root" $(CARGO) install --locked --quiet --path crates/server --bin stockpilot && \
	STOCKPILOT_BIN="$$root/bin/stockpilot" $(CARGO) test -q -p stockpilot-server --test api first_hour

config-reference: ## Rewrite the settings table of docs/configuration.md and .env.example from the settings' declarations
	STOCKPILOT_UPDATE_REFERENCE=1 $(CARGO) test -q -p stockpilot-server --lib the_settings_reference_is_written_from_the_declarations

services: ## Make sure PostgreSQL and Redis answer on 127.0.0.1 (apt-get installs them if absent)
	scripts/ensure-services.sh

lint: ## rustfmt check and clippy with warnings as errors
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

fmt: ## Format the code
	$(CARGO) fmt --all

bench: ## Every benchmark (HTTP, ingestion, indicators vs TA-Lib, research, startup, simulator, research backtest); rewrites docs/benchmarks.md
	scripts/bench/run.sh

migrate: ## Apply pending migrations to the configured database
	$(CARGO) run -q -p stockpilot-server --bin stockpilot -- migrate upgrade head

clean: ## Remove build output (not ./data)
	$(CARGO) clean

# Deployment (docs/operations.md). check-deploy, test-backup and prometheus-e2e also run in test-all.
TARGET ?= compose
IMAGE ?=
DEPLOY_ARGS ?=
DUMP ?=
RESTORE_DATABASE ?=

check-deploy: ## Validate deploy/ with promtool, nginx, compose, kustomize + k8s schemas, hadolint… (installs them)
	scripts/check-deploy.sh

test-backup: services ## Backup → drop → restore round trip on the local PostgreSQL, every table compared
	TEST_DATABASE_URL='$(TEST_DATABASE_URL)' TEST_REDIS_URL='$(TEST_REDIS_URL)' scripts/test-backup-restore.sh

fuzz-api: ## schemathesis (PyPI, in target/fuzz-venv) over the OpenAPI document against a running server, as admin
	scripts/fuzz-api.sh

prometheus-e2e: ## A real Prometheus scrapes a running server; every alert and dashboard query evaluated
	scripts/prometheus-e2e.sh

backup: ## pg_dump DATABASE_URL into BACKUP_DIR (default ./backups), drop backups older than BACKUP_RETENTION_DAYS
	scripts/backup.sh

restore: ## Restore DUMP=file into RESTORE_DATABASE=name (created; else DATABASE_URL's, must be empty), verified
	scripts/restore.sh '$(DUMP)' $(if $(RESTORE_DATABASE),--database '$(RESTORE_DATABASE)' --create)

deploy: ## Build, migrate, roll out, wait for readiness, roll back on failure: TARGET=compose|k8s [IMAGE=…]
	scripts/deploy.sh '$(TARGET)' $(if $(IMAGE),--image '$(IMAGE)') $(DEPLOY_ARGS)
