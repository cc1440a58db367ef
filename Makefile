# Smart Session Routing. `make run` and `make test` do all set-up on a fresh machine.
# DATABASE_URL points at an existing server instead of the embedded cluster.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PG_DIR := .pg
PG := $(PYTHON) dev/pgcluster.py
HOST ?= 127.0.0.1
PORT ?= 8000
WORKERS ?= 4

.PHONY: simulate bench-experiments dispatch-long bench-offers help install plpython sql-tools chromium axe db migrate seed run stop test lint pytest installcheck sql-api-doc faults fuzz \
	bench bench-migrations schema psql-script screenshots clean ha ha-up ha-state ha-stop ha-kill-primary ha-clean ha-failover-test reconcile refunds

help:
	@echo "make run    - install, start the embedded Postgres, migrate, load demo data, serve the app"
	@echo "make test   - install, lint (ruff, sqlfluff), pytest against a throwaway cluster"
	@echo "make stop   - stop the embedded Postgres cluster"
	@echo "make reconcile [HOURS=48] / make refunds - the money jobs once (STRIPE_SECRET_KEY from the environment)"
	@echo "make faults - the long fault suite (crashes, killed workers, outages, held locks)"
	@echo "make fuzz   - the long schemathesis run against the app"
	@echo "make dispatch-long - the dispatcher's long forms (round robin fair over 10,000 requests)"
	@echo "make bench-offers  - the dispatcher's bench alone (offers' cost, the sweep at 100,000 live offers)"
	@echo "make ha     - the same on a local HA setup: pg_auto_failover monitor, primary, synchronous standby"
	@echo "make ha-stop / ha-clean / ha-state / ha-failover-test"
	@echo "make installcheck - the pgTAP tests (db/tests) with pg_prove in a scratch database"
	@echo "make migrate / seed / schema / bench / bench-migrations / psql-script / sql-api-doc / clean"

$(VENV)/.installed: requirements.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	touch $@

install: $(VENV)/.installed plpython sql-tools

plpython:
	@$(PG) ensure-plpython

# pgTAP + pg_prove (make installcheck, make test) and plpgsql_check (make lint), pinned.
sql-tools:
	@$(PG) ensure-sql-tools

# Headless Chromium and its driver from Debian, for the browser tests (root: apt-get).
chromium:
	@$(PYTHON) dev/chromium.py ensure

# axe-core (the accessibility audit the browser tests run in Chromium), a pinned version and
# checksum from the npm registry into build/axe-core/ (ignored by git; dev/axe.py says why).
axe:
	@$(PYTHON) dev/axe.py ensure

# Echo the URL of the database to use: DATABASE_URL, or the embedded cluster (started on demand).
define db_url
$$(if [ -n "$${DATABASE_URL:-}" ]; then echo "$$DATABASE_URL"; else $(PG) start $(PG_DIR); fi)
endef

db: install
	@echo "database: $(db_url)"

migrate: install
	@$(PY) tools/migrate.py --database-url "$(db_url)"

seed: install
	@$(PY) dev/run.py seed

# `make run`: dev/run.py serve. The database (DATABASE_URL, else the embedded cluster) migrated, the
# demo data loaded (into DATABASE_URL only with SEED=1), the worker, the local Stripe fake (without
# STRIPE_SECRET_KEY: dev/stripe_fake.py on STRIPE_FAKE_PORT, which also plays the hosted Checkout page
# and sends the app a signed webhook when "paid") and the app under gunicorn as its least-privilege
# login ssr_app (APP_DATABASE_URL, else the same server and database as user ssr_app), its payments
# pool as ssr_payments and the worker as ssr_worker (PAYMENTS_/WORKER_DATABASE_URL; on the embedded
# cluster the logins of .pg, with the passwords of .pg/passfile).
STRIPE_FAKE_PORT ?= 12111
SEED ?=

run: install
	@$(PY) dev/run.py serve --host $(HOST) --port $(PORT) --workers $(WORKERS) \
	  --stripe-fake-port $(STRIPE_FAKE_PORT) $(if $(filter 1,$(SEED)),--seed)

# The money jobs of the worker, once, on demand (worker/refunds.py). Stripe settings from the
# environment: STRIPE_SECRET_KEY (and STRIPE_API_BASE for the fake of a running `make run`).
HOURS ?= 48
reconcile: migrate
	@DATABASE_URL="$(db_url)" $(PY) -m worker.refunds reconcile --hours $(HOURS)

refunds: migrate
	@DATABASE_URL="$(db_url)" $(PY) -m worker.refunds process

stop:
	@$(PG) stop $(PG_DIR)

# squawk: transactional migrations as the runner applies them (in a transaction), the
# `-- ssr:no-transaction` ones outside; what it may not flag is justified in .squawk.toml.
lint: install
	$(VENV)/bin/ruff check app tests tools worker dev bench
	$(VENV)/bin/sqlfluff lint --processes 2 db
	$(VENV)/bin/squawk -c .squawk.toml --assume-in-transaction $$(grep -L '^-- ssr:no-transaction' db/migrations/*.sql)
	$(VENV)/bin/squawk -c .squawk.toml $$(grep -l '^-- ssr:no-transaction' db/migrations/*.sql)
	$(PY) dev/plpgsql_lint.py

# pgTAP tests against DATABASE_URL or the embedded cluster, in a scratch database (created, dropped).
installcheck: install
	$(PY) dev/installcheck.py

# Regenerate docs/SQL_API.md (tests/test_docs.py fails when it is stale).
sql-api-doc: install
	$(PY) dev/sql_api_doc.py --write

# The suite on PYTEST_WORKERS processes (pytest-xdist), each with its own throwaway cluster: the
# cases are independent (a fresh database each), and two workers halve the wall time on 2 cores.
PYTEST_WORKERS ?= 2
pytest: install chromium axe
	$(VENV)/bin/pytest -q -n $(PYTEST_WORKERS)

# The pictures of docs/PAGES.md: the browser journey saves them in docs/screenshots.
screenshots: install chromium axe
	SCREENSHOTS_DIR=docs/screenshots $(VENV)/bin/pytest -q tests/app/test_browser_journey.py tests/app/test_browser_roles.py

test: lint pytest

# The long forms of what `make test` runs bounded: the fault suite with more deliveries, accepts and
# kills (SSR_FAULTS_LONG=1), and schemathesis with 1000 cases per operation and phase and a fresh
# seed each run (printed; SSR_FUZZ_SEED=<seed> replays one).
faults: install
	SSR_FAULTS_LONG=1 $(VENV)/bin/pytest -q tests/faults

fuzz: install
	SSR_FUZZ_EXAMPLES=$${SSR_FUZZ_EXAMPLES:-1000} SSR_FUZZ_SEED=$${SSR_FUZZ_SEED:-fresh} \
	  $(VENV)/bin/pytest -q tests/test_fuzz_openapi.py

bench: install
	$(PY) -m bench $(if $(SCALE),--scale $(SCALE))

# Routing experiments: the synthetic marketplace (per-customer split against switchback), written
# to docs/experiments_simulation.{md,svg}; and the experiments' bench phase (hot path, analysis).
simulate:
	$(PY) -m bench.simulate_experiments $(if $(RUNS),--runs $(RUNS))

bench-experiments: install
	$(PY) -m bench.experiments

# The dispatcher's long forms: round robin's fairness over 10,000 requests (make test runs 2,000).
dispatch-long: install
	DISPATCH_LONG=1 $(VENV)/bin/pytest -q tests/test_dispatch_offers.py -k round_robin

# The dispatcher's bench alone, on its own small dataset (docs/DISPATCH.md#measured).
bench-offers: install
	$(PY) -m bench.offers $(if $(SCALE),--scale $(SCALE))

# The write stall of applying every migration to a live 1M-session marketplace (durable cluster).
bench-migrations: install
	$(PY) -m bench.migration_stall $(if $(SESSIONS),--sessions $(SESSIONS))

# db/schema.sql: a normalised pg_dump --schema-only of a freshly migrated scratch database.
schema: install
	@$(PY) dev/schema.py --write --database-url "$(db_url)"

psql-script: install
	@mkdir -p build
	$(PY) tools/migrate.py --psql-script > build/ssr.sql
	@echo "wrote build/ssr.sql: psql -X -d DBNAME -f build/ssr.sql"

# The clusters may live under /var/tmp behind the .pg link: destroy removes the link's target too.
clean:
	@$(PG) destroy $(PG_DIR)
	@$(PG) destroy .pg-bench
	@$(PG) destroy .pg-bench-migrations
	rm -rf build

# --- High availability (pg_auto_failover; dev/ha.py) -------------------------------------
# `make ha` = `make run` on a monitor + primary + synchronous standby kept in .ha/: the app
# writes and decides through a multi-host URL (target_session_attrs=read-write) and reads
# the directory through DATABASE_READ_URL (prefer-standby), both as its login ssr_app; its payments
# pool as ssr_payments and the worker as ssr_worker. The URLs name the setup's passfile (.ha/passfile).
HA_DIR := .ha

ha-up: install
	@$(PY) -m dev.ha up $(HA_DIR) >/dev/null
	@$(PY) -m dev.ha state $(HA_DIR)

ha: ha-up
	@export DATABASE_URL="$$($(PY) -m dev.ha url $(HA_DIR))" \
	  DATABASE_READ_URL="$$($(PY) -m dev.ha url $(HA_DIR) --read)" POOL_TIMEOUT="$${POOL_TIMEOUT:-3}"; \
	  $(MAKE) --no-print-directory migrate; \
	  export APP_DATABASE_URL="$$($(PG) login-url "$$DATABASE_URL" --role ssr_app --enable-login)" \
	    PAYMENTS_DATABASE_URL="$$($(PG) login-url "$$DATABASE_URL" --role ssr_payments --enable-login)" \
	    WORKER_DATABASE_URL="$$($(PG) login-url "$$DATABASE_URL" --role ssr_worker --enable-login)" \
	    DATABASE_READ_URL="$$($(PG) login-url "$$DATABASE_READ_URL" --role ssr_app)"; \
	  echo "write URL: $$DATABASE_URL (the app: $$APP_DATABASE_URL)"; echo "read URL:  $$DATABASE_READ_URL"; \
	  $(MAKE) --no-print-directory run SEED=1

ha-state: install
	@$(PY) -m dev.ha state $(HA_DIR)

ha-stop: install
	@$(PY) -m dev.ha stop $(HA_DIR)

# Try a failover by hand: the primary is lost; `make ha-up` brings it back as the standby.
ha-kill-primary: install
	@$(PY) -m dev.ha kill-primary $(HA_DIR)

ha-clean: install
	@$(PY) -m dev.ha destroy $(HA_DIR)

# Failover under load on a throwaway HA setup: 320 paid events, 8 retrying senders, the
# primary killed; writes bench/failover_results.json. (A 60-event version runs in make test.)
ha-failover-test: install
	$(PY) -m bench.failover
