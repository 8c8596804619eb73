# CryptoVolt. `make run` opens the dashboard; `make test` runs every test (as CI does).
SHELL := /bin/bash
VENV  := .venv
PY    := $(VENV)/bin/python
PORT  ?= 8501

.PHONY: run test install browser lint format bench clean-runtime

$(VENV)/.installed: requirements.txt requirements-dev.txt requirements-ray.txt
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	touch $@

install: $(VENV)/.installed

## The dashboard on http://localhost:$(PORT)
run: install
	$(PY) -m streamlit run streamlit_app.py --server.address localhost --server.port $(PORT)

## Debian's Chromium for the browser tests (installed when missing and we are root)
browser:
	@if [ ! -x /usr/bin/chromium ]; then \
	  if [ "$$(id -u)" = 0 ]; then \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-color-emoji >/dev/null; \
	  else echo "Browser tests need Debian's chromium: sudo apt-get install -y chromium"; exit 1; fi; \
	fi

## Every test: unit, integration (fake Binance on loopback), AppTest, browser
test: install browser
	$(PY) -m ruff check .
	$(PY) -m mypy
	$(PY) -m pytest

lint:
	$(PY) -m ruff check .
	$(PY) -m mypy
	$(PY) -m ruff format --check .

format:
	$(PY) -m ruff format .
	$(PY) -m ruff check --fix .

## Every benchmark in bench/ (or BENCH="fetch app"); exits non-zero when a target is missed
bench: install browser
	$(PY) bench/run_all.py $(BENCH)

clean-runtime:
	rm -rf data/raw data/quarantine runs logs journal
	find models -mindepth 1 -not -name .gitkeep -exec rm -rf {} +
