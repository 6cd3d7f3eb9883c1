import os

os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("CI", "true")  # no progress bars in test output

import matplotlib  # noqa: E402

matplotlib.use("Agg")


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "notebook: executes the chapter notebook (minutes); runs only with "
                   "HOML_RL_NOTEBOOK=1 (tests/test_notebook.py)")
