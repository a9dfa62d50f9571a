# The two commands of the README:
#   make run   - set up .venv and run klcode on texts of the bundled corpora (bytes, then chars)
#   make test  - set up .venv (with the test extras) and run the whole test suite
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test bench bench-counting clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/klcode compare corpora/canterbury/alice29.txt corpora/canterbury/asyoulik.txt
	$(BIN)/klcode compare corpora/genesis/french.txt corpora/genesis/english-kjv.txt --tokens chars --encoding latin-1
	mkdir -p build
	$(BIN)/klcode matrix corpora/udhr --tokens chars --plot build/udhr-js.png
	@echo "heatmap of the UDHR matrix: build/udhr-js.png"

test: $(STAMP)
	$(BIN)/python -m pytest -q

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_huffman.py
	$(BIN)/python benchmarks/bench_counting.py
	$(BIN)/python benchmarks/bench_coders.py

bench-counting: $(STAMP)
	$(BIN)/python benchmarks/bench_counting.py

clean:
	rm -rf $(VENV) build *.egg-info
