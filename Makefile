# Portico: install, build, serve and test.
#
#   make run     install, build the frontend if sources changed, migrate, seed, serve on :3000
#   make test    install, Chromium, build, ruff, pytest on SQLite then on PostgreSQL
#   make build   production frontend build (reflex export), only when sources changed
#   make lint    ruff
#   make bench   API benchmark
#   make clean   remove build output and caches (keeps .venv and .tools: see distclean)
#
# Stamps in .make/ make a second `make run` / `make test` skip what is up to date.
# Variables: PORT (3000), HOST (127.0.0.1), WORKERS (1; 2 when REDIS_URL is set),
# PORTICO_PUBLIC_URL (http://localhost:$(PORT)), PYTHON (python3), PG_TEST_URL.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := run
MAKEFLAGS += --no-builtin-rules

PYTHON ?= python3
PORT ?= 3000
HOST ?= 127.0.0.1
WORKERS ?= $(if $(REDIS_URL),2,1)
PG_TEST_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/test

VENV := .venv
BIN := $(VENV)/bin
STAMPS := .make
NODE_BIN := $(CURDIR)/.tools/node_modules/.bin
CHROMIUM := /usr/bin/chromium
NOTO_FONT := /usr/share/fonts/truetype/noto/NotoSansArabic-Regular.ttf

# Node 22 from the npm registry comes first; Reflex uses npm instead of downloading bun.
export PATH := $(NODE_BIN):$(PATH)
export REFLEX_USE_NPM := 1
# Baked into the frontend bundle at build time: the build must be served on this origin.
export PORTICO_PUBLIC_URL ?= http://localhost:$(PORT)

# Serve the already built app (frontend mounted into the backend) without recompiling.
# These two __REFLEX_* variables are Reflex internals (reflex==0.10.1 is pinned).
SERVE_ENV := REFLEX_ENV_MODE=prod __REFLEX_SKIP_COMPILE=true __REFLEX_MOUNT_FRONTEND_COMPILED_APP=true
APP_TARGET := portal_app.portal_app:app
SERVE_CMD = $(SERVE_ENV) exec $(BIN)/granian --interface asgi --factory \
	--host $(HOST) --port $(PORT) --workers $(WORKERS) $(APP_TARGET)

SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
APT_ENV := DEBIAN_FRONTEND=noninteractive

# Everything the frontend build depends on.
BUILD_INPUTS := rxconfig.py \
	$(shell find portal_app -name '*.py' -not -path '*/__pycache__/*' 2>/dev/null) \
	$(shell find assets locales -type f 2>/dev/null)

# A stamp whose real output has vanished is remade regardless of its date.
missing = $(if $(wildcard $(1)),,FORCE)

.PHONY: run serve test install build lint bench clean distclean postgres chromium FORCE

## ---------------------------------------------------------------- install

install: $(STAMPS)/venv $(STAMPS)/node

$(STAMPS):
	mkdir -p $@

$(STAMPS)/venv: pyproject.toml $(call missing,$(BIN)/python) | $(STAMPS)
	if [ ! -x $(BIN)/python ]; then \
	  rm -rf $(VENV); \
	  if ! $(PYTHON) -m venv $(VENV); then \
	    echo "python3 -m venv failed: installing Debian's python3-venv"; \
	    rm -rf $(VENV); \
	    $(SUDO) apt-get update; \
	    $(SUDO) $(APT_ENV) apt-get install -y python3-venv; \
	    $(PYTHON) -m venv $(VENV); \
	  fi; \
	fi
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

$(STAMPS)/node: $(call missing,$(NODE_BIN)/node) | $(STAMPS)
	npm install --prefix .tools --no-audit --no-fund node@22
	$(NODE_BIN)/node --version
	touch $@

## ---------------------------------------------------------------- build

# Rewritten only when the public URL changes, so that a change forces a rebuild.
$(STAMPS)/public-url: FORCE | $(STAMPS)
	@if [ "$$(cat $@ 2>/dev/null)" != "$(PORTICO_PUBLIC_URL)" ]; then \
	  printf '%s\n' "$(PORTICO_PUBLIC_URL)" > $@; \
	fi

build: $(STAMPS)/build

$(STAMPS)/build: $(STAMPS)/venv $(STAMPS)/node $(STAMPS)/public-url $(BUILD_INPUTS) \
		$(call missing,.web/build/client) | $(STAMPS)
	@echo "Building the frontend for $(PORTICO_PUBLIC_URL)"
	touch $@.started  # the stamp gets the start time: edits made during a build count
	$(BIN)/reflex export --frontend-only --no-zip
	mv $@.started $@

## ---------------------------------------------------------------- run

run: install build
	$(BIN)/portico migrate
	$(BIN)/portico seed --with-history
	$(BIN)/portico demo-info
	@echo "Serving on http://$(HOST):$(PORT) (public URL $(PORTICO_PUBLIC_URL), $(WORKERS) worker(s))"
	$(SERVE_CMD)

# Serves the current build as it is: no install, no build, no migration.
serve:
	$(SERVE_CMD)

## ---------------------------------------------------------------- test

# fonts-noto-core: the invoice PDFs' fonts (Latin and Arabic, see portal_app/invoice_documents).
$(STAMPS)/chromium: $(call missing,$(CHROMIUM)) $(call missing,$(NOTO_FONT)) | $(STAMPS)
	if [ ! -x $(CHROMIUM) ] || [ ! -f $(NOTO_FONT) ]; then \
	  $(SUDO) apt-get update; \
	  $(SUDO) $(APT_ENV) apt-get install -y chromium fonts-noto-core; \
	fi
	touch $@

chromium: $(STAMPS)/chromium

# PostgreSQL on 127.0.0.1:5432 with trust auth and a database "test". Nothing is done
# when it already answers; otherwise an installed cluster is started, or Debian's
# postgresql is installed and set up (fresh machines only).
postgres: $(STAMPS)/venv
	@if $(BIN)/python -c "import psycopg; psycopg.connect('$(subst +psycopg,,$(PG_TEST_URL))', connect_timeout=3).close()" 2>/dev/null; then \
	  exit 0; \
	fi; \
	echo "PostgreSQL does not answer at $(PG_TEST_URL): setting it up"; \
	if ! command -v pg_ctlcluster >/dev/null; then \
	  $(SUDO) apt-get update; \
	  $(SUDO) $(APT_ENV) apt-get install -y postgresql; \
	fi; \
	ver=$$(ls /etc/postgresql | sort -V | tail -n 1); \
	hba=/etc/postgresql/$$ver/main/pg_hba.conf; \
	if ! $(SUDO) grep -Eq '^host +all +all +127\.0\.0\.1/32 +trust' $$hba; then \
	  $(SUDO) sed -i '1i host all all 127.0.0.1/32 trust' $$hba; \
	fi; \
	$(SUDO) pg_ctlcluster --skip-systemctl-redirect $$ver main start || \
	  $(SUDO) pg_ctlcluster --skip-systemctl-redirect $$ver main reload; \
	for i in $$(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done; \
	$(SUDO) runuser -u postgres -- createdb test 2>/dev/null || true; \
	$(BIN)/python -c "import psycopg; psycopg.connect('$(subst +psycopg,,$(PG_TEST_URL))', connect_timeout=5).close()"

# Tests serve the build locally, whatever public URL the environment names.
test: PORTICO_PUBLIC_URL := http://localhost:$(PORT)
test: install chromium build postgres
	$(BIN)/ruff check .
	$(BIN)/mypy
	@echo "== pytest on SQLite"
	env -u DATABASE_URL $(BIN)/pytest
	@echo "== pytest on PostgreSQL ($(PG_TEST_URL))"
	DATABASE_URL='$(PG_TEST_URL)' $(BIN)/pytest

## ---------------------------------------------------------------- misc

lint: $(STAMPS)/venv
	$(BIN)/ruff check .
	$(BIN)/mypy

bench: install
	$(BIN)/python bench/api.py

clean:
	rm -rf .web .states $(STAMPS)/build $(STAMPS)/public-url \
	  .pytest_cache .ruff_cache .mypy_cache .hypothesis screenshots
	find . -path ./.venv -prune -o -path ./.tools -prune -o \
	  -name __pycache__ -type d -prune -exec rm -rf {} +

distclean: clean
	rm -rf $(STAMPS) $(VENV) .tools *.egg-info

FORCE:
