# Two entry points for a fresh machine (Python 3.11+ and make):
#   make run    set up, crawl the bundled snapshot into catalogue.db, export every server's policy into out/policies
#   make test   set up, run the whole test suite
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test setup browser wordnet bubblewrap clean notebooks

# The main job needs only the package's own dependencies; the tests add their extras on top.
$(VENV)/.installed-run: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed: $(VENV)/.installed-run
	$(BIN)/pip install --quiet -e '.[test]'
	touch $@

setup: $(VENV)/.installed

run: $(VENV)/.installed-run
	$(BIN)/mcp-risk crawl snapshot --db catalogue.db
	$(BIN)/mcp-risk export-policies out/policies --db catalogue.db

# The Datasette test opens pages in headless Chromium, from Debian's packages.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq chromium; }

# Training (and the tests that train) read WordNet 3.0 from Debian's packages.
wordnet:
	@[ -f /usr/share/wordnet/index.sense ] || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq wordnet-base wordnet-sense-index; }

# `crawl live` runs strangers' servers under bubblewrap, from Debian's packages (its tests expect it).
bubblewrap:
	@command -v bwrap >/dev/null 2>&1 || { \
	  SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
	  $$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq bubblewrap; }

test: setup browser wordnet bubblewrap
	$(BIN)/python -m pytest

# Execute both notebooks in place, so the repository shows their tables and figures: the catalogue
# notebook reads catalogue.db (made by `make run`), the evaluation notebook the bundled labels.
notebooks: setup catalogue.db
	@# Opening it with mcp-risk brings a catalogue of an older mcp-risk up to this schema (or says in
	@# one line why it cannot), which the notebooks, reading it with plain sqlite3, would not.
	$(BIN)/mcp-risk stats --db catalogue.db > /dev/null
	cd notebooks && ../$(BIN)/python -c 'import sys, nbformat; from nbclient import NotebookClient; \
	  [(nb := nbformat.read(p, as_version=4), NotebookClient(nb, timeout=1200, kernel_name="python3").execute(), \
	    nbformat.write(nb, p)) for p in sys.argv[1:]]' catalogue.ipynb evaluation.ipynb

catalogue.db:
	$(MAKE) run

clean:
	rm -rf $(VENV) catalogue.db catalogue.db-wal catalogue.db-shm catalogue.db.lock catalogue.http-cache.db* out
