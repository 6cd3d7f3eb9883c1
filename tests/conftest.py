import importlib.util
import os

os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("CI", "true")  # no progress bars in test output

import matplotlib  # noqa: E402
import pytest  # noqa: E402

matplotlib.use("Agg")

# TF-Agents (and Reverb) exist on the reference stack only: tf-agents 0.19 needs
# TensorFlow 2.15, which has no wheels for Python >= 3.12. On the current stack
# (requirements-current.txt) the TF-Agents test files are left out, and pytest's header
# says so (see pytest_report_header); every other test runs.
HAS_TF_AGENTS = importlib.util.find_spec("tf_agents") is not None
TF_AGENTS_TEST_FILES = [
    "test_tf_agents_breakout.py",
    "test_tf_agents_cartpole.py",
    "test_tf_agents_compare.py",
    "test_tf_agents_environments.py",
    "test_tf_agents_same_algorithm.py",
]
collect_ignore = [] if HAS_TF_AGENTS else list(TF_AGENTS_TEST_FILES)


def pytest_report_header(config):
    from homl_rl.stack import stack_line

    from homl_rl.kernels import kernels_record

    kernels = kernels_record()  # TensorFlow runs its probes: stack_line names the class
    lines = [f"homl_rl stack: {stack_line()}"]
    if "families" in kernels:
        lines.append("kernel families: " + ", ".join(
            f"{family}: {name}" for family, name in kernels["families"].items()))
    if not HAS_TF_AGENTS:
        lines.append("tf_agents is not installed (current stack, TensorFlow >= 2.16): "
                     "left out " + ", ".join(TF_AGENTS_TEST_FILES))
    return lines


# --- pinned numbers -----------------------------------------------------------------
# A test whose name says "pinned" checks numbers produced on a pinned stack. They get the
# `pinned` marker, which `make test-latest` selects (the newest releases, against the
# current stack's pins). There a moved number is written to $HOML_RL_PIN_REPORT as a
# readable entry: which test (its comment says where the pin came from), the assertion
# (old value vs new value), and which packages differ from requirements-current.txt.
def pytest_collection_modifyitems(config, items):
    import pytest

    for item in items:
        if "pinned" in item.name:
            item.add_marker(pytest.mark.pinned)
        if "kernel_pins" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.kernels)


# --- pins per kernel class ----------------------------------------------------------
# A number that depends on the CPU's float kernels (homl_rl.kernels) is pinned per kernel
# class in tests/kernel_pins.json: each class's values with where they came from (null
# where that class's value was never reported). A test checks its numbers with
# `kernel_pins.check(name, values)`, against the values of the class this process runs;
# on a class nobody has measured it skips, naming the class and `make pins`, which runs
# these tests with HOML_RL_RECORD_PINS=1 and writes this machine's values to the file.
KERNEL_PINS_FILE = os.path.join(os.path.dirname(__file__), "kernel_pins.json")


class KernelPins:
    def __init__(self, path=KERNEL_PINS_FILE):
        from homl_rl.io import read_json

        self.path = path
        self.pins = read_json(path)
        self.recording = os.environ.get("HOML_RL_RECORD_PINS") == "1"

    def check(self, name, values):
        """Assert ``values`` (a list of numbers) equal this kernel class's pins ``name``."""
        import pytest
        from homl_rl.kernels import kernel_class, kernel_families

        kernels = kernel_class()
        values = list(values)
        if self.recording:
            return self._record(name, kernels, values)
        pinned = self.pins[name].get(kernels)
        if pinned is None:
            pytest.skip(f"no pins for kernel class {kernels!r} "
                        f"({', '.join(f'{f}: {c}' for f, c in kernel_families().items())}); "
                        f"record them on this machine with `make pins`")
        known = [i for i, value in enumerate(pinned["value"]) if value is not None]
        assert known, f"{name}: no {kernels} value is pinned"
        assert [values[i] for i in known] == [pinned["value"][i] for i in known], (
            f"{name} on {kernels} ({pinned['source']})")

    def _record(self, name, kernels, values):
        from homl_rl.io import read_json, write_json
        from homl_rl.stack import stack_line

        import datetime
        pins = read_json(self.path)  # another test may have recorded since
        pins.setdefault(name, {})[kernels] = {
            "value": values,
            "source": f"our run (make pins), {stack_line()}, {datetime.date.today()}"}
        write_json(self.path, pins)


@pytest.fixture
def jupyter_kernel(tmp_path, monkeypatch):
    """``execute(sources)``: a notebook of those code cells, executed with nbclient in a real
    IPython kernel started from this interpreter; its executed ``nbformat`` notebook.

    The kernelspec (``homl-rl-test``) and every Jupyter/IPython directory are in ``tmp_path``
    (nothing is written outside it); the kernel imports ``homl_rl`` from this checkout
    (``PYTHONPATH``), and runs in ``tmp_path``.
    """
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    import json
    import sys
    from pathlib import Path

    spec = tmp_path / "jupyter" / "kernels" / "homl-rl-test"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "homl_rl test", "language": "python"}))
    for variable, folder in [("JUPYTER_PATH", "jupyter"), ("JUPYTER_DATA_DIR", "data"),
                             ("JUPYTER_RUNTIME_DIR", "runtime"), ("JUPYTER_CONFIG_DIR", "config"),
                             ("IPYTHONDIR", "ipython"), ("MPLCONFIGDIR", "mpl")]:
        monkeypatch.setenv(variable, str(tmp_path / folder))
    monkeypatch.setenv("PYTHONPATH", str(Path(__file__).parents[1]))
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "3")

    def execute(sources):
        nb = nbformat.from_dict({
            "nbformat": 4, "nbformat_minor": 5, "metadata": {},
            "cells": [{"cell_type": "code", "source": source, "metadata": {}, "outputs": [],
                       "execution_count": None} for source in sources]})
        nbclient.NotebookClient(nb, kernel_name="homl-rl-test", timeout=1800,
                                resources={"metadata": {"path": str(tmp_path)}}).execute()
        return nb

    return execute


@pytest.fixture
def kernel_pins():
    return KernelPins()


_moved_pins = []


def pytest_runtest_logreport(report):
    if report.when == "call" and report.failed and "pinned" in report.keywords:
        _moved_pins.append((report.nodeid, str(report.longrepr.reprcrash.message
                                               if hasattr(report.longrepr, "reprcrash")
                                               else report.longrepr)))


def _changed_packages():
    """``[(name, pinned, installed)]`` for packages differing from requirements-current.txt."""
    from importlib import metadata
    from pathlib import Path

    changed = []
    pins = Path(__file__).resolve().parents[1] / "requirements-current.txt"
    for line in pins.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "==" not in line:
            continue
        name, pinned = line.split("==")
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            installed = "not installed"
        if installed != pinned:
            changed.append((name, pinned, installed))
    return changed


def pytest_sessionfinish(session, exitstatus):
    path = os.environ.get("HOML_RL_PIN_REPORT")
    if not path or hasattr(session.config, "workerinput"):  # the xdist controller writes it
        return
    lines = []
    if _moved_pins:
        lines.append(f"{len(_moved_pins)} pinned number check(s) moved on the newest releases:")
        for nodeid, message in _moved_pins:
            lines += [f"  {nodeid}", f"    {message.strip().splitlines()[0][:400]}"]
        lines.append("  (the pin's comment in the test file says where it came from; the "
                     "assertion shows pinned vs new value)")
    else:
        lines.append("every pinned number holds on the newest releases")
    lines.append("packages changed since requirements-current.txt was pinned:")
    lines += [f"  {name}: {pinned} -> {installed}" for name, pinned, installed in _changed_packages()]
    with open(path, "w") as report:
        report.write("\n".join(lines) + "\n")


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "kernels: depends on the CPU's float kernels (pinned per kernel class, "
                   "or a replica of this class's kernels); `make pins` records them")
    config.addinivalue_line(
        "markers", "notebook: executes the chapter notebook (minutes); runs only with "
                   "HOML_RL_NOTEBOOK=1 (tests/test_notebook.py)")
