# Entry points, each self-contained on a fresh machine:
#   make run   -- set up .venv and run the main job
#   make test  -- set up .venv, check formatting and lint (ruff), build the docs strictly, run the test suite
#   make docs  -- set up .venv, build the documentation site into site/ (mkdocs build --strict)
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: run test lint docs browser clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[test,docs]'
	touch $(STAMP)

run: $(STAMP)
	$(VENV)/bin/amaml reproduce synthetic --budget quick

lint: $(STAMP)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

docs: $(STAMP)
	NO_MKDOCS_2_WARNING=1 $(VENV)/bin/mkdocs build --strict --quiet

# Debian's Chromium, for the test that opens the built site as a reader would (tests/docs)
browser:
	command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium >/dev/null)

# the site tests read the site `make docs` just built instead of building it again
test: lint docs browser
	AMAML_SITE=site $(PY) -m pytest -q

clean:
	rm -rf $(VENV) build site src/*.egg-info .pytest_cache
