# The two commands a new user needs: `make run` and `make test`.
# Everything else here is what those two call.

PYTHON ?= python3
VENV ?= .venv
DATA_DIR ?= data
HOST ?= 127.0.0.1
PORT ?= 8000

BIN := $(VENV)/bin
DP := $(BIN)/dailypapers --data-dir $(DATA_DIR)
# Bundled embeddings for the demo data, made by `dailypapers embed --export`.
DEMO_EMBEDDINGS := demo/embeddings.npz
# Bundled arXiv arrivals (scripts/make_demo_arrivals.py) and their embeddings: see demo/arrivals-MANIFEST.txt.
DEMO_ARRIVALS := demo/arrivals.jsonl.gz
DEMO_ARRIVAL_EMBEDDINGS := demo/arrivals-embeddings.npz

.PHONY: run install test test-install lint demo serve clean

## run: install, migrate, load the bundled demo data, and serve http://127.0.0.1:8000
## (the papers' sentence vectors are not bundled: they are embedded in the background, resumably)
run: install demo
	@echo "embedding the papers' sentences in the background: $(DATA_DIR)/embed.log"
	@nice -n 10 $(DP) embed > $(DATA_DIR)/embed.log 2>&1 &
	$(DP) serve --host $(HOST) --port $(PORT)

## install: the run-time package and its CLI in .venv
install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e .
	touch $@

## demo: migrate, load the bundled Hugging Face Daily Papers archive and arXiv arrivals, rank the arrivals (idempotent)
demo: install
	$(DP) migrate
	$(DP) ingest hf-daily demo/hf-daily
	@if [ -f $(DEMO_EMBEDDINGS) ]; then $(DP) embed --import $(DEMO_EMBEDDINGS) --limit 0; fi
	$(DP) ingest jsonl $(DEMO_ARRIVALS)
	@if [ -f $(DEMO_ARRIVAL_EMBEDDINGS) ]; then $(DP) embed --import $(DEMO_ARRIVAL_EMBEDDINGS) --limit 0; fi
	$(DP) arrivals score

## test: install the test dependencies (and the browser when root), lint, and run the whole suite
test: test-install lint
	$(BIN)/pytest

## lint: style and bugs (ruff), the import architecture (import-linter, no import cycles), types (mypy)
lint: test-install
	$(BIN)/ruff check src tests bench scripts
	$(BIN)/lint-imports
	$(BIN)/python scripts/check_cycles.py
	$(BIN)/mypy

test-install: $(VENV)/.test-installed

$(VENV)/.test-installed: $(VENV)/.installed pyproject.toml scripts/install-test-deps.sh
	bash scripts/install-test-deps.sh $(VENV)
	touch $@

clean:
	rm -rf $(VENV) $(DATA_DIR) test-artifacts .pytest_cache
