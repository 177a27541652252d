# stockpilot — common tasks. `make help` lists them.
SHELL := /usr/bin/env bash
CARGO ?= cargo
BIN := target/debug/stockpilot

# Local PostgreSQL and Redis used by `make test-all` (scripts/ensure-services.sh starts them).
TEST_DATABASE_URL ?= postgres://postgres:postgres@127.0.0.1:5432/postgres
TEST_REDIS_URL ?= redis://127.0.0.1:6379

.PHONY: help run build release test test-all lint fmt services migrate clean

help: ## List the targets
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  %-10s %s\n", $$1, $$2}'

run: ## Build and serve on the embedded defaults (SQLite in ./data, in-memory cache)
	LOG_FORMAT=$${LOG_FORMAT:-pretty} $(CARGO) run -p stockpilot-server --bin stockpilot -- serve

build: ## Debug build of the binary
	$(CARGO) build -p stockpilot-server --bin stockpilot

release: ## Optimised build: target/release/stockpilot
	$(CARGO) build --release -p stockpilot-server --bin stockpilot

test: ## Every test on SQLite and the in-memory cache; needs no services
	env -u TEST_DATABASE_URL -u TEST_REDIS_URL $(CARGO) test --workspace

test-all: services ## Every test, also on PostgreSQL and Redis (installed and started when missing)
	TEST_DATABASE_URL='$(TEST_DATABASE_URL)' TEST_REDIS_URL='$(TEST_REDIS_URL)' $(CARGO) test --workspace

services: ## Make sure PostgreSQL and Redis answer on 127.0.0.1 (apt-get installs them if absent)
	scripts/ensure-services.sh

lint: ## rustfmt check and clippy with warnings as errors
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

fmt: ## Format the code
	$(CARGO) fmt --all

migrate: ## Apply pending migrations to the configured database
	$(CARGO) run -q -p stockpilot-server --bin stockpilot -- migrate upgrade head

clean: ## Remove build output (not ./data)
	$(CARGO) clean
