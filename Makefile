# hjp: `make run` installs, migrates, seeds the demo and serves; `make test` runs the whole suite.
VENV ?= .venv
BIN := $(VENV)/bin
# The first Python that is 3.12 or newer (pyenv picks 3.12 through .python-version).
PYTHON ?= $(shell for p in python3.12 python3.13 python3 python; do \
	$$p -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null && { command -v $$p; break; }; done)
HOST ?= 127.0.0.1
PORT ?= 8000
# The address the server answers on: the seed prints it and the emails link to it (settings.SITE_URL).
SITE_URL ?= http://$(HOST):$(PORT)
# The test suite always runs against real PostgreSQL and Redis (.ci/run starts them).
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/hjp
TEST_REDIS_URL ?= redis://127.0.0.1:6379/15
# The benchmark's database: a large generated history (make seed-scale), measured by make bench. Its small twin
# (BENCH_SMALL_DATABASE_URL, by default the same name ending _small) is made and seeded by make bench itself.
BENCH_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/hjp_bench
REFERRALS ?= 100000

.PHONY: install lock browser migrate seed run test test-fast lint format worker beat check clean seed-scale bench

install: $(VENV)/.installed node_modules/.installed

# Exactly the tested versions: every package (hjp's, the tools', pip's own) comes from requirements.lock, pinned
# with PyPI's hashes; pip refuses a file whose hash differs. hjp itself is then installed with no dependencies
# and no build isolation, so nothing is fetched outside the lock.
$(VENV)/.installed: requirements.lock pyproject.toml
	@test -n "$(PYTHON)" || { echo "hjp needs Python 3.12 or newer (see .python-version)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --require-hashes -r requirements.lock
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	touch $@

# Rewrites requirements.lock from pyproject.toml (after a dependency changes): pins that still fit are kept,
# `make lock LOCK_ARGS=--upgrade` takes the newest allowed. Resolved against PyPI alone, ignoring any local
# pip configuration (extra indexes, find-links), so the hashes are PyPI's and a machine with only PyPI installs it.
lock: $(VENV)/.installed
	env -u PIP_FIND_LINKS -u PIP_EXTRA_INDEX_URL -u PIP_INDEX_URL -u PIP_CONSTRAINT PIP_CONFIG_FILE=/dev/null \
		$(BIN)/pip-compile --quiet --generate-hashes --extra dev --strip-extras --allow-unsafe \
		--index-url https://pypi.org/simple --no-emit-index-url $(LOCK_ARGS) -o requirements.lock pyproject.toml

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

# The end-to-end tests drive Debian's Chromium through Playwright (which cannot download a browser here).
browser:
	@command -v chromium >/dev/null 2>&1 || { \
		[ "$$(id -u)" = 0 ] || { echo "The end-to-end tests need Debian's chromium: sudo apt-get install chromium (or run make test-fast)"; exit 1; }; \
		echo "Installing Debian's chromium for the end-to-end tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }

migrate: install
	$(BIN)/python manage.py migrate --noinput

seed: migrate
	SITE_URL="$(SITE_URL)" $(BIN)/python manage.py seed_demo

run: seed
	@echo "hjp is serving on $(SITE_URL)/ (Ctrl-C stops it)"
	SITE_URL="$(SITE_URL)" $(BIN)/python manage.py runserver $(HOST):$(PORT)

test: install browser
	DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) $(BIN)/pytest $(PYTEST_ARGS)

# The unit and page tests only: no browser, no Celery worker, no root (PostgreSQL is still needed).
test-fast: install
	DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) $(BIN)/pytest -m "not e2e and not celery_worker" $(PYTEST_ARGS)

# The house style and the architecture: ruff (lint and format) and the import contracts (import-linter:
# referrals <- casework <- outcomes, and the core hjp imports no app).
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

# With DATABASE_URL and REDIS_URL set: a real Celery worker and beat.
worker: install
	SITE_URL="$(SITE_URL)" $(BIN)/celery -A hjp worker --loglevel=info

beat: install
	$(BIN)/celery -A hjp beat --scheduler hjp.core.scheduler:DatabaseScheduler --loglevel=info

# A generated history of REFERRALS referrals (100,000 by default; documented up to 1,000,000) in BENCH_DATABASE_URL,
# created if missing. Run it once; a second run adds another history beside the first.
seed-scale: install
	DATABASE_URL=$(BENCH_DATABASE_URL) DJANGO_SETTINGS_MODULE=hjp.settings.bench $(BIN)/python manage.py bench_database
	DATABASE_URL=$(BENCH_DATABASE_URL) DEBUG=true $(BIN)/python manage.py migrate --noinput -v 0
	DATABASE_URL=$(BENCH_DATABASE_URL) DEBUG=true $(BIN)/python manage.py seed_scale --referrals $(REFERRALS)

# Every role's main pages on that history: query counts (small and large), single-user p50/p95 and throughput
# against gunicorn (2 workers, production settings) with wrk, interleaved with a bare view. Options in BENCH_ARGS,
# e.g. BENCH_ARGS="--seconds 10 --rounds 3 --requests 50" or BENCH_ARGS=--queries-only (no gunicorn, no wrk).
bench: install
	@case " $(BENCH_ARGS) " in *" --queries-only "*) ;; *) command -v wrk >/dev/null 2>&1 || { \
		echo "make bench needs wrk for the throughput: sudo apt-get install wrk (Debian, Ubuntu), brew install wrk (macOS),"; \
		echo "or see https://github.com/wg/wrk; BENCH_ARGS=--queries-only measures the query counts without it."; exit 1; } ;; esac
	DATABASE_URL=$(BENCH_DATABASE_URL) DEBUG=true $(BIN)/python manage.py migrate --noinput -v 0
	DATABASE_URL=$(BENCH_DATABASE_URL) DJANGO_SETTINGS_MODULE=hjp.settings.bench $(BIN)/python manage.py bench $(BENCH_ARGS)

check: install
	$(BIN)/python manage.py check
	$(BIN)/python manage.py makemigrations --check --dry-run

clean:
	rm -rf $(VENV) node_modules staticfiles
