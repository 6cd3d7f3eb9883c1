"""``homl-rl crosscheck PATH``: a reader's own chapter code against the reference, name by name.

The reader's ``.py`` file, ``.ipynb`` notebook, or (``crosscheck()`` in a running
Jupyter/Colab kernel) the cells the kernel has executed so far, is *loaded*, not run
(:mod:`.loader`):
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
copies of our own code, :mod:`.mutate`). The reader's training loops, skipped by the
loader, are then run one by one, each in a run row (:mod:`.checks.runs`): the loop on
copies of what ours trains, at the notebook's seeds, its environment recorded and compared
with our own run step by step, within a budget (``runs=False`` leaves them out). In a
kernel, a loop whose result is still in the kernel's namespace (``rewards``, ``totals``,
``Q_values``), from a seeding that reproduces ours, is checked from it and not run again
(:mod:`.namespace`). The result is a :class:`.report.Report`::

    report = crosscheck("my_chapter18.ipynb", only=["training_step"])
    report.exit_code, [(r.check, r.status) for r in report.results]

    crosscheck()  # in a notebook's cell: the cells run so far; shows as an HTML table

Readers' set-up code is not their mistake: ``os.environ`` assignments and magics are not
run, a missing Colab-only import is stubbed, the worker sets ``TF_USE_LEGACY_KERAS`` as
the installed TensorFlow needs it, and what fails in the environment is said once, in
:attr:`Report.setup_problems`, above the table. What the environment changes without the
reader's code being wrong (a ``TF_USE_LEGACY_KERAS`` the cross-check overrode, a line of
the book that this stack's libraries no longer accept) is a set-up note
(:attr:`Report.setup_notes`), said there too.

The command line imports this package to build its parser: it stays light (no
TensorFlow, no section modules) until a cross-check runs, so that
:func:`crosscheck_command` can quiet TensorFlow's logs before it loads.
"""

import logging
import os
import sys

from homl_rl.crosscheck.loader import UsageError, from_cells, load_source
from homl_rl.crosscheck.report import ERROR, FAIL, PASS, SKIPPED, CheckResult, Report

DEFAULT_TIMEOUT = 60.0
"""seconds per check (the TensorFlow checks import TensorFlow in the worker: ~5 s)"""

DEFAULT_RUN_SECONDS = 120.0
"""seconds each of the reader's training loops may run in a run row (its time limit; the
same as :data:`homl_rl.crosscheck.checks.runs.DEFAULT_RUN_SECONDS`, kept here so that the
command line's help needs no TensorFlow)"""

__all__ = ["DEFAULT_RUN_SECONDS", "DEFAULT_TIMEOUT", "ERROR", "FAIL", "PASS", "SKIPPED", "CheckResult", "Report",
           "UsageError", "crosscheck", "crosscheck_command"]


NO_KERNEL = "crosscheck() needs a path outside a notebook (IPython is not running)"


def _shell():
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    if shell is None:
        raise UsageError(NO_KERNEL)
    return shell


def kernel_history():
    """The sources of the cells the running IPython kernel executed, in order (as it parsed them)."""
    return list(_shell().history_manager.input_hist_parsed)


def crosscheck(path=None, *, only=None, timeout=DEFAULT_TIMEOUT, runs=True, run_episodes=None,
               run_seconds=DEFAULT_RUN_SECONDS):
    """Cross-check the reader's code: a :class:`Report` (an HTML table in Jupyter).

    ``path``: a ``.py`` file or an ``.ipynb`` notebook; ``None`` inside a running
    IPython/Jupyter/Colab kernel: the cells it has executed so far (its input history,
    in execution order: a later definition replaces an earlier one, as in the kernel).
    ``only``: check names, the start of one (``"training_step"``) or book names;
    ``timeout``: seconds per check. ``runs``: also run the reader's training loops
    (:mod:`.checks.runs`: one run row per loop found, after the function rows), each
    stopped after ``run_episodes`` episodes (``None``: each loop's default budget) or
    ``run_seconds`` seconds; ``runs=False`` leaves them out. In a kernel, a loop whose result
    is still in the kernel's namespace under the book's name (``rewards``, ``totals``,
    ``Q_values``), from a reproducible seeding, is checked from it instead of being run
    again (:mod:`.namespace`; the report's ``namespace_notes`` say which). Raises :class:`UsageError` for a missing or unreadable
    file, code that defines none of the book's names, an unknown name in ``only``, or no
    path outside IPython.
    """
    user_ns = None
    if path is None:
        loaded = from_cells(kernel_history())
        user_ns = _shell().user_ns  # read as plain data only (homl_rl.crosscheck.namespace)
    else:
        loaded = load_source(path)  # a bad file is a usage error before TensorFlow loads
    setup_problems, setup_notes = [], []
    # this process (a reader's kernel, maybe) imports TensorFlow for our side: with the
    # TF_USE_LEGACY_KERAS its set-up asked for where this TensorFlow does not want it,
    # tf.keras would fail or be Keras 3. Set it right while we run; the reader's value is
    # put back. A value that breaks tf.keras here is a set-up problem; one that only asks
    # for another Keras than the book's (or nothing: unset) is not.
    from homl_rl.crosscheck.worker import keras_2_environment

    before = os.environ.get("TF_USE_LEGACY_KERAS")
    override = keras_2_environment(os.environ)
    if override is not None:
        (setup_problems if override.breaks_tf_keras else setup_notes).append(override.message())
    try:
        # imported here, not above: the checks import the section modules and TensorFlow
        try:
            from homl_rl.crosscheck.runner import run
        except (ImportError, RecursionError, AttributeError) as error:
            raise UsageError(
                f"TensorFlow/Keras cannot be imported in this process ({type(error).__name__}: "
                f"{error}); if your notebook set TF_USE_LEGACY_KERAS before the first tf.keras, "
                "restart the kernel and run crosscheck() before using tf.keras") from None
        return run(loaded, only=only, timeout=timeout, setup_problems=setup_problems,
                   setup_notes=setup_notes, runs=runs, run_episodes=run_episodes,
                   run_seconds=run_seconds, user_ns=user_ns)
    finally:
        if before is None:
            os.environ.pop("TF_USE_LEGACY_KERAS", None)
        else:
            os.environ["TF_USE_LEGACY_KERAS"] = before


def crosscheck_command(args):
    """``homl-rl crosscheck``: print the report (``args.format``: text or json); the exit code.

    ``args`` has ``path``, ``only``, ``format``, ``timeout`` and (optional) ``runs``,
    ``run_episodes`` and ``run_seconds``. A usage error is one line
    on stderr and exit code 2.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # our side's TensorFlow: no chatter
    logging.getLogger("tensorflow").setLevel(logging.ERROR)
    try:
        report = crosscheck(args.path, only=args.only, timeout=args.timeout,
                            runs=getattr(args, "runs", True),
                            run_episodes=getattr(args, "run_episodes", None),
                            run_seconds=getattr(args, "run_seconds", DEFAULT_RUN_SECONDS))
    except UsageError as error:
        print(f"homl-rl crosscheck: error: {error}", file=sys.stderr)
        return 2
    print(report.to_json() if args.format == "json" else report.to_text())
    return report.exit_code
