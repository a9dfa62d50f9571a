# The commands of the README:
#   make run   - set up .venv and run klcode on the bundled corpora (compare, the UDHR matrix)
#   make test  - set up .venv (with the test and llm extras), .venv-plain (a plain `pip install .`, no extras) and the
#                browser of the report test, run the whole test suite (tests/test_plain_install.py runs the
#                README's commands with .venv-plain/bin/klcode)
#   make bench - set up .venv and run every benchmark: python -m benchmarks (about 10 minutes)
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
# A second environment with `pip install .` and nothing else, as a new user gets it: the dependencies once
# (again when pyproject.toml changes), klcode itself again whenever a file of the package changed.
PLAIN        := .venv-plain
PLAIN_STAMP  := $(PLAIN)/.installed
PLAIN_KLCODE := $(PLAIN)/.klcode-installed
PACKAGE_FILES := $(shell find klcode -type f ! -path '*/__pycache__/*' ! -name '*.pyc' 2>/dev/null)

.PHONY: run test plain browser bench bench-counting clean

# The test environment also has the [llm] extra (torch + transformers) so that tests/test_llm.py runs the
# hf: source on a tiny model it builds. torch is asked for as 2.13.0, the CPU build this kind of machine keeps
# on disk (a bare `torch` would pull a CUDA build of several GB); pyproject.toml itself asks only torch>=2.1.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet 'torch==2.13.0'
	$(BIN)/python -m pip install --quiet -e '.[test,llm]'
	touch $(STAMP)

$(PLAIN_STAMP): pyproject.toml
	rm -rf $(PLAIN)
	$(PYTHON) -m venv $(PLAIN)
	$(PLAIN)/bin/python -m pip install --quiet .
	touch $(PLAIN_STAMP)

$(PLAIN_KLCODE): $(PLAIN_STAMP) $(PACKAGE_FILES)
	$(PLAIN)/bin/python -m pip install --quiet --no-deps --force-reinstall .
	touch $(PLAIN_KLCODE)

plain: $(PLAIN_KLCODE)

run: $(STAMP)
	$(BIN)/klcode compare corpora/canterbury/alice29.txt corpora/canterbury/asyoulik.txt
	$(BIN)/klcode compare corpora/genesis/french.txt corpora/genesis/english-kjv.txt --tokens chars --encoding latin-1
	mkdir -p build
	$(BIN)/klcode matrix corpora/udhr --tokens chars --plot build/udhr-js.png
	@echo "heatmap of the UDHR matrix: build/udhr-js.png"

test: $(STAMP) plain browser
	$(BIN)/python -m pytest -q

# The HTML report is checked in headless Chromium (Debian's package). Installed when missing and
# running as root (CI, the project's machines); elsewhere the browser test says it is skipped.
browser:
	@command -v chromium >/dev/null 2>&1 || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "installing Debian's chromium for the browser test of the HTML report"; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else echo "chromium is not installed (and this is not root): the browser test will be skipped"; fi; }

bench: $(STAMP)
	$(BIN)/python -m benchmarks

bench-counting: $(STAMP)
	$(BIN)/python benchmarks/bench_counting.py

clean:
	rm -rf $(VENV) $(PLAIN) build *.egg-info
