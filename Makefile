# Tote — the two commands that matter: `make run` and `make test`.
SHELL := /bin/bash
CARGO ?= cargo
PG_ADMIN_URL ?= postgres://postgres@127.0.0.1:5432/postgres

.PHONY: help run build migrate test test-only lint fmt fmt-check clippy arch-check services clean-test-dbs \
        deploy-validate deploy-test docker-build bench bench-smoke

help: ## List the targets
	@grep -E '^[a-z-]+:.*##' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-15s %s\n", $$1, $$2}'

run: ## Build and start Tote on the embedded default (SQLite under ./data, in-process events)
	$(CARGO) run -p tote --bin tote -- serve

build: ## Build the release binary (target/release/tote)
	$(CARGO) build --release -p tote

migrate: ## Bring the database at DATABASE_URL up to date
	$(CARGO) run -p tote --bin tote -- migrate

test: services lint clean-test-dbs test-only deploy-validate deploy-test bench-smoke ## Everything CI checks: services, fmt, clippy, architecture, all tests, deployment files

test-only: ## All tests (domain, adapters on PostgreSQL and SQLite, end-to-end)
	@echo "==> cargo test (domain units, adapters on PostgreSQL + SQLite, end-to-end HTTP)"
	$(CARGO) test --workspace --all-targets

lint: fmt-check clippy arch-check ## fmt check, clippy -D warnings, domain-purity check

fmt: ## Format the code
	$(CARGO) fmt --all

fmt-check:
	@echo "==> cargo fmt --check"
	$(CARGO) fmt --all -- --check

clippy:
	@echo "==> cargo clippy -D warnings"
	$(CARGO) clippy --workspace --all-targets -- -D warnings

arch-check: ## Fail if a domain crate depends on an I/O crate
	@echo "==> architecture: domain crates stay free of I/O crates"
	@scripts/arch-check.sh

services: ## Start PostgreSQL and RabbitMQ if they are not running
	@scripts/services.sh

clean-test-dbs: ## Drop test databases left behind by interrupted runs
	@psql "$(PG_ADMIN_URL)" -Atc "select datname from pg_database where datname like 'tote\_t\_%'" 2>/dev/null \
	  | while read -r db; do psql "$(PG_ADMIN_URL)" -qc "drop database if exists $$db with (force)" >/dev/null; done; true

deploy-validate: ## Validate deploy/ offline: Kubernetes base + overlays, compose file, Dockerfile
	@echo "==> deploy: validate manifests, compose file and Dockerfile (offline)"
	@deploy/validate.sh

deploy-test: ## Back up and restore a scratch PostgreSQL database end to end (deploy/backup.sh, restore.sh)
	@echo "==> deploy: backup and restore round trip"
	@deploy/tests/backup-restore.sh

docker-build: ## Build the container image tote:dev (needs a Docker engine)
	docker build -f deploy/Dockerfile -t tote:dev .

bench: services ## Every benchmark at full size (~15 min; first 1M-order seed longer); writes docs/BENCHMARKS.md
	$(CARGO) build --release -p tote -p bench
	$(CARGO) run --release -p bench -- all

bench-smoke: services ## Every benchmark for ~1 s with tiny sizes: checks they run and produce numbers
	$(CARGO) build -p tote -p bench
	@echo "==> bench: every scenario briefly (proves they run; no timing asserted)"
	$(CARGO) run -p bench -- smoke
