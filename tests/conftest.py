import importlib.util
import os

os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("CI", "true")  # no progress bars in test output

import matplotlib  # noqa: E402

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
]
collect_ignore = [] if HAS_TF_AGENTS else list(TF_AGENTS_TEST_FILES)


def pytest_report_header(config):
    from homl_rl.stack import stack_line

    lines = [f"homl_rl stack: {stack_line()}"]
    if not HAS_TF_AGENTS:
        lines.append("tf_agents is not installed (current stack, TensorFlow >= 2.16): "
                     "left out " + ", ".join(TF_AGENTS_TEST_FILES))
    return lines
