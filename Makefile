# Two commands matter: `make run` (fresh clone -> demo at http://127.0.0.1:5000) and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 5000
FLASK := $(BIN)/flask --app wsgi
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: run test install lint translations messages migrate seed worker bench bench-queue bench-api bench-analytics bench-db browser clean vendor-echarts wrk

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e '.[test]'
	rm -f $(VENV)/.installed-* && touch $@

install: $(STAMP) translations

translations: $(STAMP)
	$(BIN)/pybabel compile --use-fuzzy -d complaints/translations

# After adding or changing an English string: refresh the .pot and every catalog, then translate
# the new entries in complaints/translations/zh/LC_MESSAGES/messages.po (no empty or fuzzy ones);
# zh_Hant is generated from zh with OpenCC (tools/make_zh_hant.py; a dev-time tool only), and
# ko, ru, ja get the new ids to translate (tools/fill_catalog.py LANG TABLE fills from a table).
# ngettext and N_ are Babel default keywords; _l and lazy_gettext are Flask-Babel's lazy ones.
messages: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -o complaints/translations/messages.pot --no-location --sort-output .
	$(BIN)/pybabel update -i complaints/translations/messages.pot -d complaints/translations --no-fuzzy-matching
	$(BIN)/python -c "import opencc_purepy" 2>/dev/null || $(BIN)/pip install --quiet opencc-purepy==1.5.0
	$(BIN)/python tools/make_zh_hant.py

migrate: install
	$(FLASK) db upgrade

seed: migrate
	PUBLIC_BASE_URL=$${PUBLIC_BASE_URL:-http://127.0.0.1:$(PORT)} $(FLASK) seed

# The tick (deadlines, reminders, escalations, the outbox) runs beside the server every 30 s and
# stops with it; its output goes to instance/tick.log. instance/served_url tells `flask outlets
# list` in another shell which port is served.
run: seed
	@mkdir -p instance && echo "$${PUBLIC_BASE_URL:-http://127.0.0.1:$(PORT)}" > instance/served_url
	@echo "Anxin demo: http://127.0.0.1:$(PORT)  (scan URLs: $(FLASK) outlets list; tick log: instance/tick.log)"
	@export PUBLIC_BASE_URL=$${PUBLIC_BASE_URL:-http://127.0.0.1:$(PORT)}; \
	$(FLASK) workflows tick --loop --interval 30 >> instance/tick.log 2>&1 & tick=$$!; \
	trap 'kill $$tick 2>/dev/null' EXIT INT TERM; \
	$(FLASK) run --host 127.0.0.1 --port $(PORT)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

test: install lint
	$(BIN)/python -m pytest $(PYTEST_ARGS)

worker: install
	$(FLASK) worker

bench: install wrk
	$(BIN)/pip install --quiet -e '.[test,bench]'
	$(BIN)/python bench/run.py

# The load generator the throughput bench drives gunicorn with (Debian's wrk).
wrk:
	@if command -v wrk >/dev/null; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; \
	else echo "install Debian's wrk (apt-get install wrk) for make bench"; exit 1; fi

# The console queue at a million cases: keyset pages and filters (appends to bench/RESULTS.md).
bench-queue: install
	$(BIN)/python bench/queue_keyset.py

# The database's share of a filing: the SQL of one real filing replayed by pgbench (Redis on).
bench-db: install
	$(BIN)/python bench/db_floor.py

# The API and webhooks: case read, list pages at a million cases, fan-out beside filing.
bench-api: install
	$(BIN)/python bench/integration_api.py

# Apache ECharts for the analytics page, from the npm registry into static/vendor. The minified
# file is committed, so `make run`, `make test` and CI never need npm; run this to upgrade.
ECHARTS_VERSION ?= 6.1.0
vendor-echarts:
	rm -rf .vendor-tmp && mkdir -p .vendor-tmp static/vendor
	cd .vendor-tmp && npm pack --silent echarts@$(ECHARTS_VERSION) >/dev/null && tar xzf echarts-$(ECHARTS_VERSION).tgz
	cp .vendor-tmp/package/dist/echarts.min.js static/vendor/echarts.min.js
	cp .vendor-tmp/package/LICENSE static/vendor/echarts.LICENSE
	echo "echarts $(ECHARTS_VERSION) (npm), sha256 $$(sha256sum static/vendor/echarts.min.js | cut -d' ' -f1)" > static/vendor/echarts.VERSION
	rm -rf .vendor-tmp

# Analytics page and queue export at a million cases (appends to bench/RESULTS.md).
bench-analytics: install
	$(BIN)/python bench/analytics_scale.py

# Debian's chromium for the browser tests (Playwright cannot download browsers here).
browser:
	@if [ -x /usr/bin/chromium ]; then echo "chromium present"; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else echo "install Debian's chromium (apt-get install chromium) for the browser tests"; fi

clean:
	rm -rf $(VENV) instance .pytest_cache test-artifacts
