# Two commands on a fresh machine:
#   make figures   regenerate every figure and animation
#   make test      run the test suite
# and, by hand: make figures-long (hours of training, resumable), make test-slow,
# make pins (a new CPU class's kernel-dependent numbers),
# make benchmarks, make test-latest (the maintainers' canary, docs/maintainers.md),
# make docs (the documentation site, strict), make docs-serve (its local preview),
# make docs-test (the site in headless Chromium, after make docs).
#
# The stack follows the Python (scripts/stack.py finds it on PATH, then under pyenv):
#   Python 3.11       -> reference stack, requirements.txt (TF 2.15.1, TF-Agents, NumPy 1.26):
#                        the pinned numbers and the committed figures/ bytes
#   Python 3.12, 3.13 -> current stack, requirements-current.txt (newest TF + tf_keras,
#                        NumPy 2, no TF-Agents); `make figures` writes figures-current/
# Default: Python 3.11. Choose with a version or a path: make PYTHON=3.12 test
# Each Python gets its own virtual environment, .venv-3.11, .venv-3.12, ...

PYTHON ?= 3.11
FINDER := $(shell command -v python3 2>/dev/null || command -v python 2>/dev/null)
RESOLVED := $(shell $(FINDER) scripts/stack.py resolve $(PYTHON) 2>/dev/null)
PY_EXE := $(word 1,$(RESOLVED))
PY_VERSION := $(word 2,$(RESOLVED))
STACK := $(word 3,$(RESOLVED))
REQUIREMENTS := $(word 4,$(RESOLVED))
VENV := .venv-$(PY_VERSION)
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
FIGURES_OUT := $(if $(filter reference,$(STACK)),figures,figures-current)
# pytest-xdist: the fast suite's tests are independent; --dist loadfile keeps a file (and
# its module-scoped training runs) on one worker
PYTEST_JOBS ?= 2
LATEST_VENV := .venv-latest-$(PY_VERSION)
# Venvs of two Pythons may be installed at once (.ci/run does): their editable installs
# both write homl_rl.egg-info here, so they take turns where flock exists.
EDITABLE_LOCK := $(if $(shell command -v flock 2>/dev/null),flock .editable-install.lock,)

.PHONY: docs docs-venv docs-serve docs-test figures figures-long test test-slow pins test-smoke print-smoke-tests test-latest benchmarks bench-sb3 venv stack clean

# The one line saying which Python, which stack, which venv (or why none).
stack:
	@test -n "$(FINDER)" || { echo "error: no python3 on PATH to run scripts/stack.py" >&2; exit 1; }
	@$(FINDER) scripts/stack.py describe $(PYTHON)

venv: $(STAMP)

$(STAMP): $(REQUIREMENTS) setup.cfg pyproject.toml scripts/stack.py
	@test -n "$(RESOLVED)" || { $(FINDER) scripts/stack.py resolve $(PYTHON) >/dev/null; exit 1; }
	@test -x $(PY) || $(PY_EXE) -m venv $(VENV)
	$(PY) -m pip install --quiet -r $(REQUIREMENTS)
	$(EDITABLE_LOCK) $(PY) -m pip install --quiet --no-deps -e .
	@touch $(STAMP)

figures: stack $(STAMP)
	@echo "homl_rl: writing figures to $(FIGURES_OUT)/ ($(STACK) stack)"
	$(PY) -m homl_rl figures --out $(FIGURES_OUT)
	@echo "homl_rl: figures written to $(FIGURES_OUT)/"

figures-long: stack $(STAMP)  # by hand, hours: the long runs' figures (training resumes from .cache/)
	$(PY) -m homl_rl figures --long --out $(FIGURES_OUT)

test: stack $(STAMP)
	$(PY) -m pytest -n $(PYTEST_JOBS) --dist loadfile

test-slow: stack $(STAMP)
	$(PY) -m pytest -m slow

# The numbers that depend on the CPU's float kernels, pinned per kernel class
# (tests/kernel_pins.json): on a machine whose class has no pins yet (`python -m
# homl_rl.kernels` says which), this runs those tests and writes this class's values with
# their provenance. One process: the tests take turns writing the file. Review, then commit.
pins: stack $(STAMP)
	$(PY) -m homl_rl.kernels
	HOML_RL_RECORD_PINS=1 $(PY) -m pytest -m kernels -p no:xdist

# A few quick test files: the install works and the basics run (CI's Python 3.13 check).
SMOKE_TESTS := tests/test_setup.py tests/test_markov.py tests/test_bandits.py tests/test_environments.py tests/test_replay_buffers.py tests/test_checks.py tests/test_seeding.py
test-smoke: stack $(STAMP)
	$(PY) -m pytest -n $(PYTEST_JOBS) --dist loadfile $(SMOKE_TESTS)

print-smoke-tests:
	@echo $(SMOKE_TESTS)

# The maintainers' canary: the newest release of every dependency, unpinned, in its own
# venv; runs the pinned-number tests against the current stack's pins and reports moves.
test-latest: stack
	@test "$(STACK)" = current || { echo "error: make test-latest runs on the current stack: make PYTHON=3.12 test-latest" >&2; exit 2; }
	@test -x $(LATEST_VENV)/bin/python || $(PY_EXE) -m venv $(LATEST_VENV)
	$(LATEST_VENV)/bin/python -m pip install --quiet --upgrade -r scripts/latest.in
	$(EDITABLE_LOCK) $(LATEST_VENV)/bin/python -m pip install --quiet --no-deps -e .
	HOML_RL_PIN_REPORT=$(CURDIR)/$(LATEST_VENV)/pin-report.txt $(LATEST_VENV)/bin/python -m pytest -n $(PYTEST_JOBS) --dist loadfile -m "pinned and not slow"; \
	  status=$$?; echo; cat $(LATEST_VENV)/pin-report.txt; exit $$status

benchmarks: stack $(STAMP)  # by hand, long: each script writes its results file in benchmarks/
	for script in $(filter-out $(BENCH_SB3),$(wildcard benchmarks/bench_*.py)); do $(PY) $$script || exit 1; done

# By hand, ~15 min: Stable-Baselines3's DQN beside our Keras DQN at rl-zoo3's CartPole-v1
# settings (benchmarks/results_sb3.md). It needs torch and SB3 (setup.cfg's `bench` extra), in
# a Python 3.11 venv of its own outside the repository, never the test stack's: the reference
# requirements, then torch==2.13.0 FIRST (the CPU build; a plain `torch` pulls GBs of CUDA),
# then the extra. Flags: make bench-sb3 BENCH_ARGS="--seeds 0 1 --budget 20000"
BENCH_SB3 := benchmarks/bench_sb3.py
BENCH_VENV ?= $(abspath $(CURDIR)/..)/venv-bench
bench-sb3: stack
	@test "$(STACK)" = reference || { echo "error: the bench venv is the reference stack's Python 3.11 (torch 2.13.0's CPU build): make PYTHON=3.11 bench-sb3" >&2; exit 2; }
	@test -x $(BENCH_VENV)/bin/python || $(PY_EXE) -m venv $(BENCH_VENV)
	$(BENCH_VENV)/bin/python -m pip install --quiet -r $(REQUIREMENTS)
	$(BENCH_VENV)/bin/python -m pip install --quiet torch==2.13.0
	$(EDITABLE_LOCK) $(BENCH_VENV)/bin/python -m pip install --quiet -e ".[bench]"
	nice -n 5 $(BENCH_VENV)/bin/python $(BENCH_SB3) $(BENCH_ARGS)

# The documentation site (docs/, Sphinx + MyST, docs/conf.py), built strictly: any warning
# (a broken internal link, a missing image, a docstring reference that does not resolve)
# fails it. Its tools are pinned in requirements-docs.txt, in a venv of their own
# (.venv-docs); homl_rl's dependencies (TensorFlow, NumPy...) come from the current stack's
# venv, made first when missing, through a .pth file: the API reference imports homl_rl,
# and the browser test runs with that stack's pytest.
# Use another stack venv with DOCS_STACK_VENV=path/to/venv.
DOCS_PYTHON ?= 3.12
DOCS_STACK_VENV ?= .venv-$(DOCS_PYTHON)
DOCS_VENV := .venv-docs
DOCS_STAMP := $(DOCS_VENV)/.installed
DOCS_BUILD := docs/_build
DOCS_PORT ?= 8000

docs-venv:
	@if [ "$(DOCS_STACK_VENV)" = ".venv-$(DOCS_PYTHON)" ]; then $(MAKE) --no-print-directory PYTHON=$(DOCS_PYTHON) venv; fi
	@test -x $(DOCS_STACK_VENV)/bin/python || { echo "error: no stack venv at $(DOCS_STACK_VENV)" >&2; exit 1; }
	@$(MAKE) --no-print-directory $(DOCS_STAMP) DOCS_STACK_VENV=$(DOCS_STACK_VENV)
	@$(DOCS_STACK_VENV)/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])' \
	  > $$($(DOCS_VENV)/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/homl_rl_stack.pth

$(DOCS_STAMP): requirements-docs.txt
	rm -rf $(DOCS_VENV)
	$$($(DOCS_STACK_VENV)/bin/python -c 'import sys; print(sys._base_executable)') -m venv $(DOCS_VENV)
	$(DOCS_VENV)/bin/python -m pip install --quiet -r requirements-docs.txt
	@touch $(DOCS_STAMP)

docs: docs-venv
	rm -rf $(DOCS_BUILD)/html $(DOCS_BUILD)/doctrees
	$(DOCS_VENV)/bin/python -m sphinx -b html -W --keep-going -n -q -d $(DOCS_BUILD)/doctrees docs $(DOCS_BUILD)/html
	@echo "homl_rl: the site is in $(DOCS_BUILD)/html (make docs-serve to preview it)"

docs-serve:
	@test -f $(DOCS_BUILD)/html/index.html || { echo "error: no site yet: make docs" >&2; exit 1; }
	@echo "homl_rl: serving $(DOCS_BUILD)/html on http://127.0.0.1:$(DOCS_PORT)/ (Ctrl-C stops)"
	python3 -m http.server --bind 127.0.0.1 --directory $(DOCS_BUILD)/html $(DOCS_PORT)

# The built site in headless Chromium (Debian's chromium and chromium-driver; .ci/run
# installs them): every page, image, video, the search and the navigation. Screenshots go
# to docs/_build/screenshots/.
docs-test: docs-venv
	SE_OFFLINE=true $(DOCS_VENV)/bin/python -m pytest -p no:xdist -m browser tests/test_docs_browser.py

clean:
	rm -rf .venv-* build dist *.egg-info .editable-install.lock docs/_build
