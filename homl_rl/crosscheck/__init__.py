"""``homl-rl crosscheck PATH``: a reader's own chapter code against the reference, name by name.

The reader's ``.py`` file or ``.ipynb`` notebook is *loaded*, not run (:mod:`.loader`):
IPython magics and shell lines are dropped, and of the top-level statements only
imports, function and class definitions and simple assignments are kept. The kept code
runs in a separate worker process (:mod:`.worker`, driven by :mod:`.client`) whose
working directory is a fresh temporary directory; each check has a timeout, and a check
that crashes or hangs the worker costs only its own row (the worker is restarted).

Each check (:mod:`.checks`, one module per section) feeds the reader's function and
ours the same inputs at the same seeds, and sets the notebook globals the reader's
function reads (``model``, ``replay_buffer``, ``transition_probabilities``, ...) to
copies of what ours is given. Outputs are compared leaf by leaf (:mod:`.diff`); a
failure that matches a known mistake gets its hint (:mod:`.hints`, computed from mutated
copies of our own code, :mod:`.mutate`). The result is a :class:`.report.Report`::

    report = crosscheck("my_chapter18.ipynb", only=["training_step"])
    report.exit_code, [(r.check, r.status) for r in report.results]

The command line imports this package to build its parser: it stays light (no
TensorFlow, no section modules) until a cross-check runs, so that
:func:`crosscheck_command` can quiet TensorFlow's logs before it loads.
"""

import logging
import os
import sys

from homl_rl.crosscheck.loader import UsageError, load_source
from homl_rl.crosscheck.report import ERROR, FAIL, PASS, SKIPPED, CheckResult, Report

DEFAULT_TIMEOUT = 60.0
"""seconds per check (the TensorFlow checks import TensorFlow in the worker: ~5 s)"""

__all__ = ["DEFAULT_TIMEOUT", "ERROR", "FAIL", "PASS", "SKIPPED", "CheckResult", "Report",
           "UsageError", "crosscheck", "crosscheck_command"]


def crosscheck(path, *, only=None, timeout=DEFAULT_TIMEOUT):
    """Cross-check the reader's ``.py`` file or ``.ipynb`` notebook at ``path``: a :class:`Report`.

    ``only``: check names, the start of one (``"training_step"``) or book names;
    ``timeout``: seconds per check. Raises :class:`UsageError` for a missing or unreadable
    file, one that defines none of the book's names, or an unknown name in ``only``.
    """
    loaded = load_source(path)  # a bad file is a usage error before TensorFlow loads
    # imported here, not above: the checks import the section modules and TensorFlow
    from homl_rl.crosscheck.runner import run

    return run(loaded, only=only, timeout=timeout)


def crosscheck_command(args):
    """``homl-rl crosscheck``: print the report (``args.format``: text or json); the exit code.

    ``args`` has ``path``, ``only``, ``format`` and ``timeout``. A usage error is one line
    on stderr and exit code 2.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # our side's TensorFlow: no chatter
    logging.getLogger("tensorflow").setLevel(logging.ERROR)
    try:
        report = crosscheck(args.path, only=args.only, timeout=args.timeout)
    except UsageError as error:
        print(f"homl-rl crosscheck: error: {error}", file=sys.stderr)
        return 2
    print(report.to_json() if args.format == "json" else report.to_text())
    return report.exit_code
