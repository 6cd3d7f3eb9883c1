import os

os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("CI", "true")  # no progress bars in test output

import matplotlib  # noqa: E402

matplotlib.use("Agg")
