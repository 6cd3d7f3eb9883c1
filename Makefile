# Two commands on a fresh machine with Python 3.11:
#   make figures   regenerate every figure and animation into figures/
#   make test      run the test suite
# and, by hand: make figures-long (hours of training, resumable), make test-slow, make benchmarks
# Both create .venv (if missing) and install the pinned stack of requirements.txt.

PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3 2>/dev/null)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: figures figures-long test test-slow benchmarks venv clean

venv: $(STAMP)

$(STAMP): requirements.txt setup.cfg pyproject.toml scripts/check_python.py
	@test -n "$(PYTHON)" || { echo "error: no python3 found; homl_rl needs Python 3.11" >&2; exit 1; }
	@$(PYTHON) scripts/check_python.py
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet -r requirements.txt
	$(PY) -m pip install --quiet --no-deps -e .
	@touch $(STAMP)

figures: $(STAMP)
	$(PY) -m homl_rl figures

figures-long: $(STAMP)  # by hand, hours: the long runs' figures (training resumes from .cache/)
	$(PY) -m homl_rl figures --long

test: $(STAMP)
	$(PY) -m pytest

test-slow: $(STAMP)
	$(PY) -m pytest -m slow

benchmarks: $(STAMP)  # by hand, long: each script writes its results file in benchmarks/
	for script in benchmarks/bench_*.py; do $(PY) $$script || exit 1; done

clean:
	rm -rf $(VENV) build *.egg-info
