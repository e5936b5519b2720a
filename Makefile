# Two commands matter: `make run` (fresh clone -> demo at http://127.0.0.1:5000) and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 5000
FLASK := $(BIN)/flask --app wsgi
STAMP := $(VENV)/.installed-$(shell cat pyproject.toml | cksum | cut -d' ' -f1)

.PHONY: run test install lint translations messages migrate seed worker bench bench-queue browser clean

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

run: seed
	@echo "Anxin demo: http://127.0.0.1:$(PORT)  (scan URLs: $(FLASK) outlets list)"
	PUBLIC_BASE_URL=$${PUBLIC_BASE_URL:-http://127.0.0.1:$(PORT)} $(FLASK) run --host 127.0.0.1 --port $(PORT)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

test: install lint
	$(BIN)/python -m pytest $(PYTEST_ARGS)

worker: install
	$(FLASK) worker

bench: install
	$(BIN)/python bench/run.py

# The console queue at a million cases: keyset pages and filters (appends to bench/RESULTS.md).
bench-queue: install
	$(BIN)/python bench/queue_keyset.py

# Debian's chromium for the browser tests (Playwright cannot download browsers here).
browser:
	@if [ -x /usr/bin/chromium ]; then echo "chromium present"; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else echo "install Debian's chromium (apt-get install chromium) for the browser tests"; fi

clean:
	rm -rf $(VENV) instance .pytest_cache test-artifacts
