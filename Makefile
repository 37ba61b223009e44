# Two commands: `make run` and `make test`. Everything else is set up on the way.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
PG_URL ?= postgresql+psycopg://root@127.0.0.1:5432/test

NPM ?= npm
VENDOR := hotline/static/vendor

.PHONY: run test lint setup browser translations vendor db demo test-sqlite test-postgres clean

$(BIN)/activate:
	$(PY) -m venv $(VENV)

$(VENV)/.installed: requirements.txt requirements-dev.txt constraints.txt | $(BIN)/activate
	$(BIN)/pip install -q --disable-pip-version-check -c constraints.txt -r requirements.txt -r requirements-dev.txt
	touch $@

setup: $(VENV)/.installed translations vendor

# Front-end libraries from npm (package-lock.json), served from hotline/static/vendor (git-ignored); no CDN.
node_modules/.package-lock.json: package.json package-lock.json
	$(NPM) ci --no-audit --no-fund --loglevel=error

$(VENDOR)/echarts.min.js: node_modules/.package-lock.json
	mkdir -p $(VENDOR)
	cp node_modules/echarts/dist/echarts.min.js $@

vendor: $(VENDOR)/echarts.min.js

translations: $(VENV)/.installed
	$(BIN)/pybabel compile -f -d hotline/translations

db: setup
	mkdir -p instance
	HOTLINE_ENV=development $(FLASK) db upgrade heads
	HOTLINE_ENV=development $(FLASK) hotline seed

demo: db
	HOTLINE_ENV=development $(FLASK) hotline demo

run: demo
	@echo "Serving on http://127.0.0.1:5000 (demo logins above; password hotline-demo-2026)"
	HOTLINE_ENV=development $(FLASK) hotline serve --host 127.0.0.1 --port 5000

# Browser journeys (tests/e2e) drive Debian's Chromium through its own driver; the Chinese font makes the
# guide's screenshots legible. Installed only when missing (CI runs as root); the tests fail if still absent.
BROWSER_PACKAGES := chromium chromium-driver fonts-wqy-zenhei
browser:
	@if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1 \
		|| [ ! -e /usr/share/fonts/truetype/wqy/wqy-zenhei.ttc ]; then \
		echo "Installing $(BROWSER_PACKAGES)"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $(BROWSER_PACKAGES); \
	fi

# Lint and type check (settings in pyproject.toml); `make test` runs them first.
lint: $(VENV)/.installed
	$(BIN)/ruff check
	$(BIN)/mypy

test: lint setup browser
	HOTLINE_TEST_PG_URL=$(PG_URL) $(BIN)/python -m pytest -q -p no:cacheprovider tests

clean:
	rm -rf $(VENV) instance node_modules $(VENDOR)
