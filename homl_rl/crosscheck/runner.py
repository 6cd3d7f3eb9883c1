"""Running the checks that apply to a reader's file, each in its own row of the report."""

from homl_rl.crosscheck.breakages import matching_breakage, setup_note
from homl_rl.crosscheck.checks import CHECKS
from homl_rl.crosscheck.checks.base import Context
from homl_rl.crosscheck.checks.runs import DEFAULT_RUN_SECONDS, RUN_EPISODES, RUN_PREFIX, run_rows
from homl_rl.crosscheck.client import SetupError, Worker, WorkerError
from homl_rl.crosscheck.loader import UsageError
from homl_rl.crosscheck.namespace import KernelRuns, plain_values
from homl_rl.crosscheck.report import ERROR, SKIPPED, CheckResult, Report


def _selects(wanted, check_name, book_names):
    """``--only`` takes a check name, the start of one (``training_step``), or a book name."""
    return check_name.startswith(wanted) or wanted in book_names


def applicable_checks(loaded, only=None):
    """``[(check name, function or None, why skipped)]`` in the order of :data:`CHECKS`."""
    defined = {d.name for d in loaded.definitions} | {s.name for s in loaded.snippets}
    rows = []
    for name, (book_names, function) in CHECKS.items():
        if only and not any(_selects(wanted, name, book_names) for wanted in only):
            continue
        missing = [n for n in book_names if n not in defined]
        rows.append((name, None if missing else function,
                     f"not defined: {', '.join(missing)}" if missing else ""))
    return rows


SETUP_SKIPPED = "not checked: see the set-up problem at the top"
BOOK_LINE_BROKEN = "the book's line raised on this stack's libraries: see the set-up note at the top"


def _selects_run(wanted, title):
    """``--only run`` (or ``run:``) selects every run row; ``--only "run: DQN"`` those it starts."""
    return RUN_PREFIX.startswith(wanted) or title.startswith(wanted)


def _names_runs(wanted):
    return RUN_PREFIX.startswith(wanted) or wanted.startswith(RUN_PREFIX)


def run(loaded, only, timeout, setup_problems=(), setup_notes=(), runs=True, run_episodes=None,
        run_seconds=DEFAULT_RUN_SECONDS, user_ns=None):
    """The report of the cross-check of ``loaded`` (see :func:`homl_rl.crosscheck.crosscheck`).

    ``setup_problems``: what already went wrong in the reader's environment; a check that
    fails for a reason of the environment (:class:`SetupError`) adds its problem there,
    once, and its row is skipped. ``setup_notes``: what the environment changed without
    the reader's code being wrong; a row whose error is a line of the book that this
    stack's libraries reject (:mod:`.breakages`) adds its note there, once.

    ``runs``: add the run rows (:mod:`.checks.runs`: the reader's training loops, run
    within ``run_episodes`` episodes, ``None`` for each loop's default, and
    ``run_seconds`` seconds each), after the function rows; with ``only``, they run only
    when it names them (``run``, or the start of a run row's name). ``user_ns``: in a
    notebook, the kernel's namespace: the run rows first compare the results the reader's
    loops left there (:mod:`.namespace`, read as plain data), and say per loop in
    :attr:`Report.namespace_notes` what was checked from it, what was re-run, and why.
    """
    path = loaded.path
    book_names = {n for names, _ in CHECKS.values() for n in names}
    if not book_names & ({d.name for d in loaded.definitions} | {s.name for s in loaded.snippets}):
        raise UsageError(f"{path} defines none of the book's names "
                         f"({', '.join(sorted(book_names))})")
    if only:
        known = set(CHECKS) | book_names | {"run"}
        unknown = [name for name in only
                   if not any(_selects(name, check, names) for check, (names, _) in CHECKS.items())
                   and not _names_runs(name)]
        if unknown:
            raise UsageError(f"unknown check {', '.join(unknown)}; choose from "
                             f"{', '.join(sorted(known))}")
    report = Report(str(path), skipped_code=list(loaded.skipped),
                    setup_problems=list(setup_problems), setup_notes=list(setup_notes))
    kernel = None
    if user_ns is not None and runs:
        kernel = KernelRuns(loaded, plain_values(user_ns),
                            lambda kind: run_episodes or RUN_EPISODES[kind])
    worker = Worker(loaded, load_timeout=max(timeout, 120.0))
    try:
        try:
            worker.start()
            load = worker.load_report
            report.load_notes += load["notes"]
            for error in load["errors"]:
                report.results.append(CheckResult("load", ERROR, detail=error))
        except WorkerError as error:
            report.results.append(CheckResult("load", ERROR, detail=str(error)))
        ctx = Context(loaded, worker, timeout)
        checks = applicable_checks(loaded, only)
        if runs and (not only or any(_names_runs(w) for w in only)):
            def select(title):
                return not only or any(_selects_run(w, title) for w in only)
            checks.append((f"{RUN_PREFIX}training loops", lambda ctx: run_rows(
                ctx, run_episodes, run_seconds, select, kernel), ""))
        for name, function, why in checks:
            if function is None:
                report.results.append(CheckResult(name, SKIPPED, detail=why))
                continue
            try:
                results = function(ctx)
            except SetupError as error:
                if str(error) not in report.setup_problems:
                    report.setup_problems.append(str(error))
                results = CheckResult(name, SKIPPED, detail=SETUP_SKIPPED)
            except WorkerError as error:
                lines = str(error).splitlines()
                if lines and lines[0].startswith("  "):  # a traceback: the error first
                    lines = [f"your code raised {lines[-1]}"] + lines[:-1]
                broken = matching_breakage(error.raised)
                if broken is not None:  # the book's own line, on a newer library
                    note = setup_note(*broken)
                    if note not in report.setup_notes:
                        report.setup_notes.append(note)
                    lines = [BOOK_LINE_BROKEN] + lines
                results = CheckResult(name, ERROR, detail="\n".join(lines))
            except Exception as error:  # noqa: BLE001 -- e.g. an output we cannot even compare
                results = CheckResult(name, ERROR, detail=f"{type(error).__name__}: {error}")
            report.results += results if isinstance(results, list) else [results]
    finally:
        worker.close()
    if kernel is not None:
        report.namespace_notes += kernel.lines
    return report
