"""``homl-rl crosscheck PATH``: a reader's own chapter code against the reference, name by name.

The reader's ``.py`` file or ``.ipynb`` notebook is *loaded*, not run: IPython magics
and shell lines are dropped, and of the top-level statements only imports, function
and class definitions and simple assignments (literals, names, attributes; no calls)
are kept — training loops, plots and calls are skipped and listed. The kept code runs
in a separate worker process (:mod:`homl_rl.crosscheck_worker`) whose working
directory is a fresh temporary directory; each check has a timeout, and a check that
crashes or hangs the worker costs only its own row (the worker is restarted).

Each check feeds the reader's function and ours the same inputs at the same seeds,
and sets the notebook globals the reader's function reads (``model``, ``replay_buffer``,
``transition_probabilities``, ...) to copies of what ours is given.
"""

import ast
import json
import os
import select
import subprocess
import sys
import tempfile
import time
from collections import deque
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from homl_rl.crosscheck_worker import read_message, write_message
from homl_rl.dqn import VARIANTS

DEFAULT_TIMEOUT = 60.0
"""seconds per check (the TensorFlow checks import TensorFlow in the worker: ~5 s)"""
FLOAT_TOLERANCE = 1e-6
"""max absolute difference accepted between floats (float64 NumPy code agrees to ~1e-15;
float32 TensorFlow code run eagerly on both sides agrees exactly on the same build)"""


class UsageError(Exception):
    """A bad PATH or a file with nothing to check: exit code 2."""


# --- loading the reader's code -----------------------------------------------------------

@dataclass
class Definition:
    name: str
    stmt: tuple  # (cell index, line number): the worker's id for it
    kind: str  # "def", "class" or "value"
    where: str
    params: tuple = ()
    names_used: frozenset = frozenset()


@dataclass
class Snippet:
    """A top-level assignment that was not run (e.g. the dueling cell's ``Q_values = ...``)."""
    name: str
    source: str
    where: str
    names_used: frozenset


@dataclass
class LoadedSource:
    path: str
    cells: list  # [(filename, source, kept line numbers)]
    definitions: list
    skipped: list  # one line each: "file, line N: for loop"
    snippets: list = field(default_factory=list)  # skipped one-line assignments (dueling model)

    def versions(self, name):
        return [d for d in self.definitions if d.name == name]


_KEPT_EXPRESSIONS = (ast.Constant, ast.Name, ast.Attribute, ast.List, ast.Tuple, ast.Set,
                     ast.Dict, ast.UnaryOp, ast.BinOp, ast.Load, ast.unaryop, ast.operator,
                     ast.expr_context)


def _is_simple(expression):
    return all(isinstance(node, _KEPT_EXPRESSIONS) for node in ast.walk(expression))


def _describe(stmt):
    kinds = {ast.For: "for loop", ast.While: "while loop", ast.If: "if statement",
             ast.With: "with statement", ast.Try: "try statement", ast.Assert: "assert",
             ast.AugAssign: "augmented assignment", ast.Delete: "del"}
    for kind, text in kinds.items():
        if isinstance(stmt, kind):
            return text
    if isinstance(stmt, ast.Expr):
        if isinstance(stmt.value, ast.Call):
            return f"call {ast.unparse(stmt.value.func)}()"
        return "expression"
    if isinstance(stmt, (ast.Assign, ast.AnnAssign)):
        targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
        return f"assignment {', '.join(ast.unparse(t) for t in targets)} = <not a literal>"
    return type(stmt).__name__.lower()


def strip_magics(source):
    """Drop IPython magics (``%pip``, ``%%time``) and shell lines (``!apt``), keep the line count."""
    lines = []
    for line in source.splitlines():
        stripped = line.lstrip()
        lines.append("" if stripped.startswith(("%", "!")) else line)
    return "\n".join(lines) + "\n"


def read_cells(path):
    """The code cells of ``path``: ``[(filename, source)]`` (one cell for a ``.py`` file)."""
    path = Path(path)
    if not path.is_file():
        raise UsageError(f"no such file: {path}")
    if path.suffix == ".ipynb":
        try:
            notebook = json.loads(path.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError) as error:
            raise UsageError(f"{path} is not a Jupyter notebook (JSON): {error}") from None
        cells = []
        for index, cell in enumerate(notebook.get("cells", [])):
            if cell.get("cell_type") == "code":
                source = cell.get("source", "")
                source = "".join(source) if isinstance(source, list) else source
                cells.append((f"{path.name} [cell {index}]", strip_magics(source)))
        return cells
    if path.suffix != ".py":
        raise UsageError(f"{path} is neither a .py file nor an .ipynb notebook")
    try:
        source = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise UsageError(f"{path} is not a text file") from None
    return [(path.name, source)]


def load_source(path):
    """Parse the reader's code; keep imports, definitions and simple assignments."""
    cells, definitions, skipped, snippets = [], [], [], []
    raw_cells = read_cells(path)
    single_file = len(raw_cells) == 1 and str(path).endswith(".py")
    for cell_index, (filename, source) in enumerate(raw_cells):
        try:
            tree = ast.parse(source, filename)
        except SyntaxError as error:
            if single_file:
                raise UsageError(f"{path} is not valid Python: {error}") from None
            skipped.append(f"{filename}: the whole cell (syntax error: {error.msg}, line {error.lineno})")
            cells.append((filename, "", []))  # keeps the cell indices of the worker's ids
            continue
        kept = []
        for stmt in tree.body:
            where = f"{filename}, line {stmt.lineno}"
            stmt_id = (cell_index, stmt.lineno)
            if isinstance(stmt, (ast.Import, ast.ImportFrom)):
                kept.append(stmt.lineno)
            elif isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                kept.append(stmt.lineno)
                is_class = isinstance(stmt, ast.ClassDef)
                params = () if is_class else tuple(a.arg for a in stmt.args.args)
                used = frozenset(node.id for node in ast.walk(stmt) if isinstance(node, ast.Name))
                used |= {node.attr for node in ast.walk(stmt) if isinstance(node, ast.Attribute)}
                definitions.append(Definition(stmt.name, stmt_id, "class" if is_class else "def",
                                              where, params, frozenset(used)))
            elif (isinstance(stmt, (ast.Assign, ast.AnnAssign)) and stmt.value is not None
                  and _is_simple(stmt.value)):
                kept.append(stmt.lineno)
                targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
                for target in targets:
                    if isinstance(target, ast.Name):
                        definitions.append(Definition(target.id, stmt_id, "value", where))
            elif not (isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant)
                      and isinstance(stmt.value.value, str)):  # a docstring is not code
                skipped.append(f"{where}: {_describe(stmt)}")
            if (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1
                    and isinstance(stmt.targets[0], ast.Name)):
                used = frozenset(n.id for n in ast.walk(stmt.value) if isinstance(n, ast.Name))
                snippets.append(Snippet(stmt.targets[0].id, ast.unparse(stmt), where, used))
        cells.append((filename, source, kept))
    return LoadedSource(str(path), cells, definitions, skipped, snippets)


# --- the worker ---------------------------------------------------------------------------

class WorkerError(Exception):
    """The reader's code raised, or the worker died or timed out."""


class Worker:
    """One worker process with the reader's code loaded; restarted after a crash or a timeout."""

    def __init__(self, loaded, load_timeout=120.0):
        self.loaded = loaded
        self.load_timeout = load_timeout
        self.process = None
        self.load_report = None
        self.tmpdir = tempfile.TemporaryDirectory(prefix="homl_rl_crosscheck_")

    def start(self):
        to_child_r, to_child_w = os.pipe()
        from_child_r, from_child_w = os.pipe()
        package_root = str(Path(__file__).resolve().parent.parent)
        env = dict(os.environ, TMPDIR=self.tmpdir.name, MPLBACKEND="Agg",
                   TF_CPP_MIN_LOG_LEVEL="3",
                   PYTHONPATH=os.pathsep.join(filter(None, [package_root,
                                                            os.environ.get("PYTHONPATH")])))
        self.stderr = open(os.path.join(self.tmpdir.name, ".worker_stderr"), "w+b")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "homl_rl.crosscheck_worker", str(to_child_r), str(from_child_w)],
            cwd=self.tmpdir.name, env=env, pass_fds=(to_child_r, from_child_w),
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=self.stderr)
        os.close(to_child_r)
        os.close(from_child_w)
        self.write_fd, self.read_fd = to_child_w, from_child_r
        self.load_report = self._request({"op": "load", "cells": self.loaded.cells},
                                         self.load_timeout)

    def stop(self):
        if self.process is not None:
            if self.process.poll() is None:
                self.process.kill()
            self.process.wait()
            os.close(self.write_fd)
            os.close(self.read_fd)
            self.stderr.close()
            self.process = None

    def close(self):
        self.stop()
        self.tmpdir.cleanup()

    def request(self, timeout, **request):
        if self.process is None:
            self.start()
        return self._request(request, timeout)

    def _request(self, request, timeout):
        try:
            write_message(self.write_fd, request)
        except OSError:
            return self._died()
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self.stop()
                raise WorkerError(f"timed out after {timeout:g} s (the worker was killed)")
            ready, _, _ = select.select([self.read_fd], [], [], remaining)
            if ready:
                break
        answer = read_message(self.read_fd)
        if answer is None:
            return self._died()
        if "error" in answer:
            raise WorkerError(answer["error"])
        return answer["ok"]

    def _died(self):
        self.process.wait()
        code = self.process.returncode
        self.stderr.seek(0)
        tail = self.stderr.read().decode(errors="replace").strip().splitlines()[-3:]
        self.stop()
        raise WorkerError(f"the reader's code killed the worker (exit code {code})"
                          + ("".join(f"\n  {line}" for line in tail)))


# --- comparing outputs ----------------------------------------------------------------------

@dataclass
class Difference:
    ok: bool
    max_abs_diff: float = 0.0
    where: str = ""
    ours: object = None
    theirs: object = None
    problem: str = ""


def compare(ours, theirs, tol=FLOAT_TOLERANCE, where="output"):
    """Exact for integers and booleans, ``tol`` for floats; NaN, type and shape are reported."""
    if isinstance(ours, dict) and isinstance(theirs, dict) and set(ours) == set(theirs):
        worst = Difference(True)
        for key in ours:
            diff = compare(ours[key], theirs[key], tol, f"{where}.{key}")
            if not diff.ok:
                return diff
            worst.max_abs_diff = max(worst.max_abs_diff, diff.max_abs_diff)
        return worst
    if ours is None or isinstance(ours, (str, dict)):
        ok = ours == theirs
        return Difference(ok, 0.0, where, ours, theirs, "" if ok else "differs")
    if isinstance(ours, (list, tuple)) and not _is_numeric_leaf_list(ours):
        if not isinstance(theirs, (list, tuple, np.ndarray)):
            return Difference(False, np.nan, where, _kind(ours), _kind(theirs), "wrong type")
        if len(theirs) != len(ours):
            return Difference(False, np.nan, where, f"{len(ours)} items", f"{len(theirs)} items",
                              "wrong length")
        worst = Difference(True)
        for index, (a, b) in enumerate(zip(ours, theirs)):
            diff = compare(a, b, tol, f"{where}[{index}]")
            if not diff.ok:
                return diff
            worst.max_abs_diff = max(worst.max_abs_diff, diff.max_abs_diff)
        return worst
    a = np.asarray(ours)
    try:
        b = np.asarray(theirs)
        if b.dtype == object:
            raise TypeError
    except (TypeError, ValueError):
        return Difference(False, np.nan, where, _kind(ours), _kind(theirs), "wrong type")
    if not np.issubdtype(b.dtype, np.number) and b.dtype != bool:
        return Difference(False, np.nan, where, _kind(ours), _kind(theirs), "wrong type")
    if a.shape != b.shape:
        if a.size == b.size and a.size == 1:
            b = b.reshape(a.shape)
        else:
            return Difference(False, np.nan, where, f"shape {a.shape}", f"shape {b.shape}",
                              "wrong shape")
    exact = not (np.issubdtype(a.dtype, np.floating) or np.issubdtype(b.dtype, np.floating))
    a64, b64 = a.astype(np.float64), b.astype(np.float64)
    nan = np.isnan(b64) & ~np.isnan(a64)
    if nan.any():
        index = tuple(int(i) for i in np.argwhere(nan)[0])
        return Difference(False, np.nan, _at(where, index), a64[index], b64[index], "NaN")
    both_inf = np.isinf(a64) & (a64 == b64)
    with np.errstate(invalid="ignore"):
        delta = np.where(both_inf | (np.isnan(a64) & np.isnan(b64)), 0.0, np.abs(a64 - b64))
    delta = np.nan_to_num(delta, nan=np.inf)
    max_diff = float(delta.max()) if delta.size else 0.0
    bad = delta > (0 if exact else tol)
    if bad.any():
        index = tuple(int(i) for i in np.argwhere(bad)[0])
        return Difference(False, max_diff, _at(where, index), a[index].item(), b[index].item(),
                          "differs")
    return Difference(True, max_diff)


def _is_numeric_leaf_list(value):
    return all(isinstance(item, (int, float, bool, np.number, np.bool_)) for item in value)


def _kind(value):
    if isinstance(value, np.ndarray):
        return f"ndarray {value.dtype} {value.shape}"
    return type(value).__name__


def _at(where, index):
    return f"{where}[{', '.join(map(str, index))}]" if index else where


# --- results ---------------------------------------------------------------------------------

PASS, FAIL, SKIPPED, ERROR = "pass", "fail", "skipped", "error"
SYMBOLS = {PASS: "✓", FAIL: "✗", SKIPPED: "skipped", ERROR: "error"}


@dataclass
class CheckResult:
    check: str
    status: str
    max_abs_diff: float = None
    detail: str = ""
    hint: str = ""
    where: str = ""


@dataclass
class Report:
    path: str
    results: list = field(default_factory=list)
    skipped_code: list = field(default_factory=list)
    load_notes: list = field(default_factory=list)

    @property
    def exit_code(self):
        return 1 if any(r.status in (FAIL, ERROR) for r in self.results) else 0

    def to_json(self):
        data = asdict(self)
        data["exit_code"] = self.exit_code
        return json.dumps(data, indent=2, default=str)

    def to_text(self):
        rows = [("check", "result", "max |diff|", "details")]
        for r in self.results:
            diff = "" if r.max_abs_diff is None else f"{r.max_abs_diff:.3g}"
            rows.append((r.check, SYMBOLS[r.status], diff, r.detail.splitlines()[0] if r.detail else ""))
        widths = [max(len(row[i]) for row in rows) for i in range(3)]
        lines = [f"crosscheck of {self.path}", ""]
        for row in rows:
            lines.append("  ".join(cell.ljust(width) for cell, width in zip(row, widths))
                         + "  " + row[3])
        extra = [r for r in self.results if r.hint or (r.detail and "\n" in r.detail)]
        for r in extra:
            lines.append("")
            lines.append(f"{r.check}:")
            for line in r.detail.splitlines()[1:]:
                lines.append(f"    {line}")
            if r.hint:
                lines.append(f"    hint: {r.hint}")
        n_pass = sum(r.status == PASS for r in self.results)
        n_attempted = sum(r.status in (PASS, FAIL, ERROR) for r in self.results)
        lines += ["", f"integers and booleans compared exactly, floats to {FLOAT_TOLERANCE:g} "
                      "(absolute); same inputs, same seeds.",
                  f"{n_pass}/{n_attempted} attempted checks pass; "
                      f"{len(self.skipped_code)} top-level statement(s) not run"
                      " (loops, calls, plots; --format json lists them)."]
        if self.load_notes:
            lines.append(f"{len(self.load_notes)} simple assignment(s) could not be evaluated "
                         "(they use values made by skipped code; --format json lists them).")
        return "\n".join(lines)


def _show(value):
    return f"{value:.8g}" if isinstance(value, float) else repr(value)


def _failure(check, diff, hint=""):
    detail = (f"{diff.problem} at {diff.where}: ours {_show(diff.ours)}, yours {_show(diff.theirs)}")
    return CheckResult(check, FAIL, diff.max_abs_diff, detail, hint, diff.where)


# --- the checks ------------------------------------------------------------------------------

CHECKS = {}
"""check name -> (book names it needs, function(context) -> CheckResult or list of them)"""


def check(name, *book_names):
    def register(function):
        CHECKS[name] = (book_names, function)
        return function
    return register


@dataclass
class Context:
    loaded: LoadedSource
    worker: Worker
    timeout: float

    def latest(self, name, kind=None):
        versions = [d for d in self.loaded.versions(name) if kind is None or d.kind == kind]
        return versions[-1] if versions else None

    def call(self, definition, calls, globals=None, seed=None, collect=(), method=None):
        return self.worker.request(self.timeout, op="call", stmt=definition.stmt, calls=calls,
                                   globals=globals or {}, seed=seed, collect=list(collect),
                                   method=method)


def _first_matching_hint(theirs, candidates):
    """The hint of the first known mistake whose output equals the reader's."""
    for hint, output in candidates:
        try:
            if compare(output, theirs).ok:
                return hint
        except Exception:  # noqa: BLE001
            continue
    return ""


def _compare_result(name, ours, theirs, candidates=(), tol=FLOAT_TOLERANCE):
    diff = compare(ours, theirs, tol)
    if diff.ok:
        return CheckResult(name, PASS, diff.max_abs_diff)
    return _failure(name, diff, _first_matching_hint(theirs, candidates))


def _random_cartpole_observations(n, seed=0):
    rng = np.random.default_rng(seed)
    obs = rng.uniform(-0.2, 0.2, size=(n, 4)).astype(np.float32)
    obs[:3, 2] = [0.0, -0.0, 1e-8]  # the edge cases: an upright pole
    return obs


@check("basic_policy", "basic_policy")
def check_basic_policy(ctx):
    from homl_rl.environments import basic_policy

    observations = _random_cartpole_observations(200)
    ours = [int(basic_policy(obs)) for obs in observations]
    theirs = ctx.call(ctx.latest("basic_policy", "def"), [([obs], {}) for obs in observations])
    inverted = [1 - action for action in ours]
    return _compare_result("basic_policy", ours, theirs["results"], [
        ("the actions are swapped: push left (0) when the pole tilts left (angle < 0)", inverted)])


def _discount_forward(rewards, discount_factor):
    discounted = np.array(rewards)
    for step in range(1, len(rewards)):
        discounted[step] += discounted[step - 1] * discount_factor
    return discounted


def _discount_reversed_input(rewards, discount_factor):
    from homl_rl.policy_gradients import discount_rewards

    return discount_rewards(list(rewards)[::-1], discount_factor)[::-1]


def _discount_rewards_inputs():
    rng = np.random.default_rng(42)
    return [([10, 0, -50], 0.8), ([1.0, 1.0, 1.0, 1.0], 0.95), (list(rng.normal(size=7)), 0.9),
            ([5.0], 0.5), (list(rng.normal(size=20)), 0.99)]


@check("discount_rewards", "discount_rewards")
def check_discount_rewards(ctx):
    from homl_rl.policy_gradients import discount_rewards

    inputs = _discount_rewards_inputs()
    ours = [discount_rewards(r, d) for r, d in inputs]
    theirs = ctx.call(ctx.latest("discount_rewards", "def"), [([r, d], {}) for r, d in inputs])
    return _compare_result("discount_rewards", ours, theirs["results"], [
        ("the discount is applied in the wrong direction: each step gets the *future* rewards "
         "(loop from the last step backwards)", [_discount_forward(r, d) for r, d in inputs]),
        ("the rewards are not discounted (discount_factor ignored)",
         [discount_rewards(r, 1.0) for r, d in inputs]),
    ])


def _normalize_per_episode(all_rewards, discount_factor):
    from homl_rl.policy_gradients import discount_rewards

    out = []
    for rewards in all_rewards:
        discounted = discount_rewards(rewards, discount_factor)
        out.append((discounted - discounted.mean()) / discounted.std())
    return out


@check("discount_and_normalize_rewards", "discount_and_normalize_rewards")
def check_discount_and_normalize(ctx):
    from homl_rl.policy_gradients import discount_and_normalize_rewards, discount_rewards

    rng = np.random.default_rng(7)
    inputs = [([[10, 0, -50], [10, 20]], 0.8),
              ([list(rng.normal(size=5)), list(rng.normal(size=3)), list(rng.normal(size=8))], 0.95)]
    ours = [discount_and_normalize_rewards(r, d) for r, d in inputs]
    # the reader's function calls a global discount_rewards: give it ours, so that this
    # row checks the normalisation alone (the discount_rewards row checks theirs)
    theirs = ctx.call(ctx.latest("discount_and_normalize_rewards", "def"),
                      [([r, d], {}) for r, d in inputs],
                      globals={"discount_rewards": discount_rewards})
    no_std = [[(discount_rewards(r, d) - np.concatenate([discount_rewards(x, d) for x in rs]).mean())
               for r in rs] for rs, d in inputs]
    return _compare_result("discount_and_normalize_rewards", ours, theirs["results"], [
        ("normalised per episode: use the mean and standard deviation over *all* episodes' "
         "discounted rewards (np.concatenate them first)",
         [_normalize_per_episode(r, d) for r, d in inputs]),
        ("the discounted rewards are centred but not divided by their standard deviation", no_std),
    ])


@check("run_chain", "run_chain")
def check_run_chain(ctx):
    from homl_rl import markov

    n_runs = 10
    np.random.seed(42)
    ours = [markov.run_chain(0) for _ in range(n_runs)]
    answer = ctx.call(ctx.latest("run_chain", "def"), [([0], {}) for _ in range(n_runs)],
                      globals={"transition_probabilities": markov.chain_transition_probabilities,
                               "terminal_states": markov.terminal_states, "n_max_steps": 1000},
                      seed=42)
    theirs = []
    for result, printed in zip(answer["results"], answer["printed"]):
        if isinstance(result, (list, tuple, np.ndarray)):
            theirs.append([int(s) for s in result])
        else:  # the notebook's run_chain prints the states
            theirs.append([int(token) for token in printed.split() if token.isdigit()])
    return _compare_result("run_chain (ten runs from s0, seed 42)", ours, theirs)


@check("MDP tables + Q-value iteration", "transition_probabilities", "rewards", "possible_actions")
def check_mdp_tables(ctx):
    from homl_rl import markov

    name = "MDP tables + Q-value iteration"
    ours = {"transition_probabilities": markov.transition_probabilities,
            "rewards": markov.rewards, "possible_actions": markov.possible_actions}
    tables = {}
    for table, reference in ours.items():
        candidates = [d for d in ctx.loaded.versions(table) if d.kind == "value"]
        if not candidates:
            return CheckResult(name, SKIPPED, detail=f"no {table} table assigned")
        values = _fetch_values(ctx, candidates)
        # the notebook reuses names (the Markov chain's 4x4 table, `rewards = []` for DQN):
        # take the latest assignment shaped like the MDP's table
        shaped = [v for v in values if _same_structure(reference, v)]
        if not shaped:
            return CheckResult(name, FAIL, detail=f"no {table} shaped like the MDP's "
                                                  f"(3 states x 3 actions x 3 next states)")
        tables[table] = shaped[-1]
    for table, reference in ours.items():
        diff = compare(_none_to_nan(reference), _none_to_nan(tables[table]), where=table)
        if not diff.ok:
            return _failure(name, diff)
    try:
        q_ours, _ = markov.q_value_iteration(0.90)
        q_theirs, _ = markov.q_value_iteration(0.90, 50, tables["transition_probabilities"],
                                               tables["rewards"], tables["possible_actions"])
    except Exception as error:  # noqa: BLE001
        return CheckResult(name, ERROR, detail=f"Q-value iteration on your tables: {error}")
    return _compare_result(name, q_ours, q_theirs)


def _fetch_values(ctx, definitions):
    values = []
    for definition in definitions:
        try:
            values.append(ctx.worker.request(ctx.timeout, op="value", stmt=definition.stmt))
        except WorkerError:  # an assignment that could not be evaluated (see the notes)
            continue
    return values


def _same_structure(reference, value):
    """Shaped like ``reference``, where ``None`` (an impossible action) and a row match each other."""
    if reference is None or value is None:
        return reference is None or _same_structure(value, reference)
    if isinstance(reference, list):
        return (isinstance(value, (list, tuple)) and len(value) == len(reference)
                and all(_same_structure(r, v) for r, v in zip(reference, value)))
    return isinstance(value, (int, float, np.number))


def _none_to_nan(table):
    if table is None:
        return [np.nan] * 3
    if isinstance(table, (list, tuple)):
        return [_none_to_nan(item) for item in table]
    return table


def _mdp_globals():
    from homl_rl import markov

    return {"transition_probabilities": markov.transition_probabilities,
            "rewards": markov.rewards, "possible_actions": markov.possible_actions}


@check("step (Q-learning)", "step")
def check_step(ctx):
    from homl_rl import markov

    pairs = [(s, a) for s, actions in enumerate(markov.possible_actions) for a in actions] * 30
    np.random.seed(42)
    ours = [tuple(int(x) for x in markov.step(s, a)) for s, a in pairs]
    definition = next((d for d in reversed(ctx.loaded.versions("step")) if d.kind == "def"), None)
    if definition is None:
        return CheckResult("step (Q-learning)", SKIPPED, detail="step is not a function here")
    answer = ctx.call(definition, [([s, a], {}) for s, a in pairs], globals=_mdp_globals(), seed=42)
    return _compare_result("step (Q-learning)", ours, answer["results"])


@check("exploration_policy", "exploration_policy")
def check_exploration_policy(ctx):
    from homl_rl import markov

    states = [0, 1, 2] * 50
    np.random.seed(42)
    ours = [int(markov.exploration_policy(s)) for s in states]
    answer = ctx.call(ctx.latest("exploration_policy", "def"), [([s], {}) for s in states],
                      globals=_mdp_globals(), seed=42)
    return _compare_result("exploration_policy", ours, answer["results"])


Q_LEARNING_CELL = """
np.random.seed(42)
Q_values = np.full((3, 3), -np.inf)
for state, actions in enumerate(possible_actions):
    Q_values[state][actions] = 0

alpha0 = 0.05  # initial learning rate
decay = 0.005  # learning rate decay
gamma = 0.90  # discount factor
state = 0  # initial state

for iteration in range(10_000):
    action = exploration_policy(state)
    next_state, reward = step(state, action)
    next_value = Q_values[next_state].max()  # greedy policy at the next step
    alpha = alpha0 / (1 + iteration * decay)
    Q_values[state, action] *= 1 - alpha
    Q_values[state, action] += alpha * (reward + gamma * next_value)
    state = next_state
"""
"""The notebook's Q-learning cell (without its history), run on the reader's ``step`` and
``exploration_policy``: the loop is ours, the two functions are theirs."""


@check("Q-learning (notebook's loop, your step and exploration_policy)", "step",
       "exploration_policy")
def check_q_learning(ctx):
    from homl_rl import markov

    name = "Q-learning (notebook's loop, your step and exploration_policy)"
    ours, _ = markov.q_learning()
    variables = dict(_mdp_globals(), np=("__module__", "numpy"))
    theirs = ctx.worker.request(ctx.timeout, op="snippet", code=Q_LEARNING_CELL,
                                result="Q_values", variables=variables)
    return _compare_result(name, ours, theirs)


def _experiences(n=40, seed=3):
    rng = np.random.default_rng(seed)
    return [(rng.normal(size=4).astype(np.float32), int(rng.integers(2)), 1.0,
             rng.normal(size=4).astype(np.float32), bool(rng.random() < 0.2),
             bool(rng.random() < 0.1)) for _ in range(n)]


@check("sample_experiences", "sample_experiences")
def check_sample_experiences(ctx):
    from homl_rl.replay_buffers import sample_experiences

    experiences = _experiences()
    buffer = deque(experiences, maxlen=2000)
    np.random.seed(42)
    ours = [sample_experiences(buffer, 8), sample_experiences(buffer, 5)]
    answer = ctx.call(ctx.latest("sample_experiences", "def"), [([8], {}), ([5], {})],
                      globals={"replay_buffer": ("__deque__", experiences, 2000)}, seed=42)
    return _compare_result("sample_experiences", ours, answer["results"], tol=0)


@check("ReplayBuffer", "ReplayBuffer")
def check_replay_buffer(ctx):
    from homl_rl.replay_buffers import ReplayBuffer

    calls = [("append", [i]) for i in range(3)] + [("sample", [4])]
    calls += [("append", [i]) for i in range(3, 9)] + [("sample", [6]), ("sample", [2])]

    def run(buffer):
        return [getattr(buffer, name)(*args) for name, args in calls]

    np.random.seed(42)
    ours = [np.asarray(out, dtype=np.int64) for out in run(ReplayBuffer(5)) if out is not None]
    answer = ctx.call(ctx.latest("ReplayBuffer", "class"), [([5], {})], seed=42, method=calls)
    outputs = answer["results"][0]
    theirs = [np.asarray(list(out)) for out in outputs if out is not None]
    return _compare_result("ReplayBuffer (max_size 5, wraps)", ours, theirs, tol=0)


# --- the TensorFlow checks ---------------------------------------------------------------------

TRAINING_BATCH_SIZE = 16


def _model_spec(model):
    return ("__model__", model.to_json(), [np.asarray(w) for w in model.get_weights()])


def _copy_model(model):
    from homl_rl.tf_setup import tf

    copy = tf.keras.models.clone_model(model)
    copy.set_weights(model.get_weights())
    return copy


def _q_network(variant="dqn", seed=42):
    from homl_rl.seeding import set_seeds

    set_seeds(seed)
    return VARIANTS[variant].build_model((4,), 2)


@check("epsilon_greedy_policy", "epsilon_greedy_policy")
def check_epsilon_greedy_policy(ctx):
    from homl_rl.dqn import DQN

    model = _q_network()
    states = _random_cartpole_observations(12, seed=5)
    epsilons = [0.0, 0.5, 1.0, 0.1, 0.9, 0.0] * 2
    agent = DQN(model=model, optimizer=None, n_outputs=2, engine="notebook")
    np.random.seed(42)
    ours = [int(agent.epsilon_greedy_policy(s, e)) for s, e in zip(states, epsilons)]
    answer = ctx.call(ctx.latest("epsilon_greedy_policy", "def"),
                      [([s, e], {}) for s, e in zip(states, epsilons)],
                      globals={"model": _model_spec(model), "n_outputs": 2}, seed=42)
    Q_values = model.predict(states, verbose=0)

    def mistaken(pick, explore):
        np.random.seed(42)
        return [int(np.random.randint(2)) if explore(np.random.rand(), e) else int(pick(q))
                for q, e in zip(Q_values, epsilons)]

    return _compare_result("epsilon_greedy_policy", ours, answer["results"], [
        ("the test is reversed: explore (random action) when np.random.rand() < epsilon",
         mistaken(np.argmax, lambda r, e: r > e)),
        ("the greedy action is the one with the *largest* Q-value (argmax)",
         mistaken(np.argmin, lambda r, e: r < e)),
    ])


def _notebook_training_step(model, target, optimizer, replay_buffer, next_q="online",
                            runs_from="dones|truncateds", batch_size=TRAINING_BATCH_SIZE):
    """The notebook's ``training_step``, with knobs for the usual mistakes (used for hints)."""
    from homl_rl.replay_buffers import sample_experiences
    from homl_rl.tf_setup import tf

    states, actions, rewards, next_states, dones, truncateds = sample_experiences(
        replay_buffer, batch_size)
    if next_q == "online":
        max_next_Q_values = model.predict(next_states, verbose=0).max(axis=1)
    elif next_q == "target":
        max_next_Q_values = target.predict(next_states, verbose=0).max(axis=1)
    else:  # double: "online" picks, "target" evaluates; or the mistake "target_picks"
        picker = target if next_q == "target_picks" else model
        best_next_actions = picker.predict(next_states, verbose=0).argmax(axis=1)
        next_mask = tf.one_hot(best_next_actions, 2).numpy()
        max_next_Q_values = (target.predict(next_states, verbose=0) * next_mask).sum(axis=1)
    runs = {"dones|truncateds": 1.0 - (dones | truncateds), "dones": 1.0 - dones,
            "none": 1.0}[runs_from]
    target_Q_values = (rewards + runs * 0.95 * max_next_Q_values).reshape(-1, 1)
    mask = tf.one_hot(actions, 2)
    with tf.GradientTape() as tape:
        all_Q_values = model(states)
        Q_values = tf.reduce_sum(all_Q_values * mask, axis=1, keepdims=True)
        loss = tf.reduce_mean(tf.keras.losses.mean_squared_error(target_Q_values, Q_values))
    grads = tape.gradient(loss, model.trainable_variables)
    optimizer.apply_gradients(zip(grads, model.trainable_variables))
    return [np.asarray(w) for w in model.get_weights()]


_MISTAKES = {
    "dqn": [(("online", "none"), "missing (dones | truncateds) mask: the target Q-value of a "
                                 "final step must be the reward alone (runs = 1.0 - (dones | truncateds))"),
            (("online", "dones"), "truncated episodes must stop the bootstrap too: "
                                  "runs = 1.0 - (dones | truncateds), not 1.0 - dones")],
    "fixed_q_targets": [(("online", "dones|truncateds"), "the next Q-values come from the online "
                                                         "model: use target.predict (fixed Q-value targets)")],
    "double_dqn": [(("target_picks", "dones|truncateds"), "target network used to pick the action in "
                                                          "Double DQN: the online model picks the best "
                                                          "next action (argmax), the target evaluates it"),
                   (("target", "dones|truncateds"), "this is fixed Q-value targets, not Double DQN: "
                                                    "the online model must pick the next action")],
}
_MISTAKES["fixed_q_targets"] += [(("target", r), h) for (_, r), h in _MISTAKES["dqn"]]
_MISTAKES["double_dqn"] += [(("double", r), h) for (_, r), h in _MISTAKES["dqn"]]
_MISTAKES["dueling_double_dqn"] = _MISTAKES["double_dqn"]


def _training_step_variant(definition):
    """Which DQN variant a reader's ``training_step`` is, from the names it uses."""
    if "target" in definition.names_used and "argmax" in definition.names_used:
        return "double_dqn"
    return "fixed_q_targets" if "target" in definition.names_used else "dqn"


def _check_training_step(ctx, variant):
    from homl_rl.tf_setup import tf

    name = f"training_step ({VARIANTS[variant].title})"
    wanted = "double_dqn" if variant == "dueling_double_dqn" else variant
    versions = [d for d in ctx.loaded.versions("training_step")
                if d.kind == "def" and _training_step_variant(d) == wanted]
    if not versions:
        return CheckResult(name, SKIPPED, detail=f"no training_step for {VARIANTS[wanted].title} "
                                                 "(told apart by the names it uses: target, argmax)")
    model = _q_network(variant)
    rng = np.random.default_rng(0)
    target = _copy_model(model)  # a target that differs from the model, or no check could tell
    target.set_weights([w + rng.normal(0, 0.1, w.shape).astype(w.dtype) for w in model.get_weights()])
    experiences = _experiences(64)
    learning_rate = VARIANTS[variant].learning_rate

    def optimizer():
        return tf.keras.optimizers.Nadam(learning_rate=learning_rate)

    globals_ = {"model": _model_spec(model), "target": _model_spec(target),
                "optimizer": ("__optimizer__", "Nadam", optimizer().get_config()),
                "loss_fn": ("__loss__", "mean_squared_error"),
                "replay_buffer": ("__deque__", experiences, 2000), "n_outputs": 2,
                "discount_factor": 0.95, "batch_size": TRAINING_BATCH_SIZE}
    agent = VARIANTS[variant].agent(model=_copy_model(model), optimizer=optimizer(),
                            loss_fn=tf.keras.losses.mean_squared_error,
                            replay_buffer=deque(experiences, maxlen=2000), n_outputs=2,
                            discount_factor=0.95, batch_size=TRAINING_BATCH_SIZE,
                            target=target if variant != "dqn" else None, engine="notebook")
    np.random.seed(42)
    loss = float(agent.training_step(TRAINING_BATCH_SIZE))
    ours = [np.asarray(w) for w in agent.model.get_weights()]
    answer = ctx.call(versions[-1], [([TRAINING_BATCH_SIZE], {})], globals=globals_, seed=42,
                      collect=["model"])
    theirs = answer["collected"]["model"]
    diff = compare(ours, theirs, where="updated weights")
    returned = answer["results"][0]
    if diff.ok and returned is not None:  # the notebook returns nothing; a loss is welcome
        diff = compare(loss, returned, where="returned loss")
    if diff.ok:
        return CheckResult(name, PASS, diff.max_abs_diff)
    candidates = []
    for (next_q, runs_from), hint in _MISTAKES[variant]:
        np.random.seed(42)
        candidates.append((hint, _notebook_training_step(_copy_model(model), target, optimizer(),
                                                         deque(experiences), next_q, runs_from)))
    return _failure(name, diff, _first_matching_hint(theirs, candidates))


for _variant in VARIANTS:
    check(f"training_step ({VARIANTS[_variant].title})", "training_step")(
        lambda ctx, _variant=_variant: _check_training_step(ctx, _variant))


def _pg_call_inputs(env_id, seeds):
    import gymnasium as gym

    calls = []
    for seed in seeds:
        obs, info = gym.make(env_id).reset(seed=seed)
        calls.append((seed, obs))
    return calls


def _pg_fields(obs, reward, done, truncated, grads):
    # the notebook's lander step returns `info` as `truncated`: only its truth counts
    return {"obs": obs, "reward": reward, "done": done, "truncated": bool(truncated),
            "grads": grads}


def _check_pg_step(ctx, name, book_name, env_id, make_model, loss_name, ours_fn, candidates_fn=None):
    from homl_rl.seeding import set_seeds
    from homl_rl.tf_setup import tf
    import gymnasium as gym

    definitions = [d for d in ctx.loaded.versions(book_name)
                   if d.kind == "def" and len(d.params) == 4]
    if not definitions:
        return CheckResult(name, SKIPPED, detail=f"no {book_name}(env, obs, model, loss_fn)")
    model = make_model()
    loss_fn = tf.keras.losses.get(loss_name)
    inputs = _pg_call_inputs(env_id, [42, 43, 44])

    def run(step_fn):
        set_seeds(42)
        outputs = []
        for seed, obs in inputs:
            env = gym.make(env_id)
            env.reset(seed=seed)
            obs, reward, done, truncated, grads = step_fn(env, obs, model, loss_fn)
            outputs.append(_pg_fields(obs, reward, done, truncated, [np.asarray(g) for g in grads]))
        return outputs

    ours = run(ours_fn)
    answer = ctx.call(definitions[-1],
                      [([("__env__", env_id, seed), obs, _model_spec(model),
                         ("__loss__", loss_name)], {}) for seed, obs in inputs], seed=42)
    theirs = []
    for result in answer["results"]:
        if isinstance(result, tuple) and len(result) == 5:
            result = _pg_fields(*result)
        theirs.append(result)
    candidates = [(hint, run(fn)) for hint, fn in (candidates_fn() if candidates_fn else [])]
    return _compare_result(name, ours, theirs, candidates)


def _pg_step_with_action_as_target(env, obs, model, loss_fn):
    from homl_rl.tf_setup import tf

    with tf.GradientTape() as tape:
        left_proba = model(obs[np.newaxis])
        action = (tf.random.uniform([1, 1]) > left_proba)
        y_target = tf.cast(action, tf.float32)
        loss = tf.reduce_mean(loss_fn(y_target, left_proba))
    grads = tape.gradient(loss, model.trainable_variables)
    obs, reward, done, truncated, info = env.step(int(action[0, 0]))
    return obs, reward, done, truncated, grads


@check("play_one_step (policy gradients)", "play_one_step")
def check_pg_play_one_step(ctx):
    from homl_rl.nn_policy import policy_net
    from homl_rl.policy_gradients import play_one_step

    def make_model():
        model = policy_net(seed=42)
        model.build((None, 4))
        return model

    return _check_pg_step(
        ctx, "play_one_step (policy gradients)", "play_one_step", "CartPole-v1", make_model,
        "binary_crossentropy", play_one_step,
        lambda: [("y_target is the probability of going left: 1 - action, not action",
                  _pg_step_with_action_as_target)])


@check("lander_play_one_step", "lander_play_one_step")
def check_lander_play_one_step(ctx):
    from homl_rl.policy_gradients import LANDER_CONFIG, lander_play_one_step, lander_policy_net

    return _check_pg_step(ctx, "lander_play_one_step", "lander_play_one_step",
                          LANDER_CONFIG.env_id, lambda: lander_policy_net(seed=42),
                          "sparse_categorical_crossentropy", lander_play_one_step)


@check("play_one_step (DQN)", "play_one_step", "epsilon_greedy_policy")
def check_dqn_play_one_step(ctx):
    import gymnasium as gym

    from homl_rl.dqn import DQN

    name = "play_one_step (DQN)"
    definitions = [d for d in ctx.loaded.versions("play_one_step")
                   if d.kind == "def" and len(d.params) == 3]
    if not definitions:
        return CheckResult(name, SKIPPED, detail="no play_one_step(env, state, epsilon)")
    model = _q_network()
    env = gym.make("CartPole-v1")
    state, info = env.reset(seed=42)
    epsilons = [0.5, 0.0, 1.0, 0.2]
    agent = DQN(model=model, optimizer=None, n_outputs=2, engine="notebook")
    np.random.seed(42)
    ours, obs = [], state
    for epsilon in epsilons:  # one env, stepped on: the reader's calls replay the same states
        out = agent.play_one_step(env, obs, epsilon)
        ours.append(out[:4])
        obs = out[0]
    states = [state] + [out[0] for out in ours[:-1]]
    # the reader's play_one_step steps its own env, made and reset the same way
    answer = ctx.call(definitions[-1], [([("__shared_env__", "CartPole-v1", 42), s, e], {})
                                        for s, e in zip(states, epsilons)],
                      globals={"model": _model_spec(model), "n_outputs": 2,
                               "replay_buffer": ("__deque__", [], 2000)},
                      seed=42, collect=["replay_buffer"])
    theirs = [tuple(result[:4]) if isinstance(result, (tuple, list)) else result
              for result in answer["results"]]
    diff = compare(ours, theirs, where="returned")
    if diff.ok:
        diff = compare([list(e) for e in agent.replay_buffer],
                       [list(e) if isinstance(e, (tuple, list)) else e
                        for e in answer["collected"]["replay_buffer"]], where="replay_buffer")
    if diff.ok:
        return CheckResult(name, PASS, diff.max_abs_diff)
    hint = ""
    if diff.where.startswith("replay_buffer") and diff.problem == "wrong length":
        hint = "append (state, action, reward, next_state, done, truncated) to replay_buffer"
    return _failure(name, diff, hint)


@check("dueling Q-value formula", "advantages", "Q_values")
def check_dueling_formula(ctx):
    name = "dueling Q-value formula"
    snippets = [s for s in ctx.loaded.snippets
                if (s.name == "advantages" and "raw_advantages" in s.names_used)
                or (s.name == "Q_values" and {"state_values", "advantages"} <= s.names_used)]
    advantages = [s for s in snippets if s.name == "advantages"]
    q_values = [s for s in snippets if s.name == "Q_values"]
    if not advantages or not q_values:
        return CheckResult(name, SKIPPED, detail="no `advantages = ...raw_advantages...` and "
                                                 "`Q_values = ...state_values...advantages...` lines")
    code = advantages[-1].source + "\n" + q_values[-1].source + "\n"
    rng = np.random.default_rng(1)
    state_values = rng.normal(size=(6, 1)).astype(np.float32)
    raw_advantages = rng.normal(size=(6, 3)).astype(np.float32)
    ours = state_values + (raw_advantages - raw_advantages.max(axis=1, keepdims=True))
    theirs = ctx.worker.request(ctx.timeout, op="snippet", code=code, result="Q_values",
                                variables={"state_values": ("__tensor__", state_values),
                                           "raw_advantages": ("__tensor__", raw_advantages)})
    return _compare_result(name, ours, theirs, [
        ("the book subtracts the *max* advantage (tf.reduce_max), so the best action's Q-value "
         "equals the state value", state_values + raw_advantages - raw_advantages.mean(
             axis=1, keepdims=True)),
        ("subtract the max advantage: Q = V + (A - max A)", state_values + raw_advantages),
    ])


# --- running everything ------------------------------------------------------------------------

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


def run_crosscheck(path, only=None, timeout=DEFAULT_TIMEOUT):
    loaded = load_source(path)
    book_names = {n for names, _ in CHECKS.values() for n in names}
    if not book_names & ({d.name for d in loaded.definitions} | {s.name for s in loaded.snippets}):
        raise UsageError(f"{path} defines none of the book's names "
                         f"({', '.join(sorted(book_names))})")
    if only:
        known = set(CHECKS) | book_names
        unknown = [name for name in only
                   if not any(_selects(name, check, names) for check, (names, _) in CHECKS.items())]
        if unknown:
            raise UsageError(f"unknown check {', '.join(unknown)}; choose from "
                             f"{', '.join(sorted(known))}")
    report = Report(str(path), skipped_code=list(loaded.skipped))
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
        for name, function, why in applicable_checks(loaded, only):
            if function is None:
                report.results.append(CheckResult(name, SKIPPED, detail=why))
                continue
            try:
                results = function(ctx)
            except WorkerError as error:
                lines = str(error).splitlines()
                if lines and lines[0].startswith("  "):  # a traceback: the error first
                    lines = [f"your code raised {lines[-1]}"] + lines[:-1]
                results = CheckResult(name, ERROR, detail="\n".join(lines))
            except Exception as error:  # noqa: BLE001 -- e.g. an output we cannot even compare
                results = CheckResult(name, ERROR, detail=f"{type(error).__name__}: {error}")
            report.results += results if isinstance(results, list) else [results]
    finally:
        worker.close()
    return report


def crosscheck_command(args):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # our side's TensorFlow: no chatter
    import logging

    logging.getLogger("tensorflow").setLevel(logging.ERROR)
    try:
        report = run_crosscheck(args.path, only=args.only, timeout=args.timeout)
    except UsageError as error:
        print(f"homl-rl crosscheck: error: {error}", file=sys.stderr)
        return 2
    print(report.to_json() if args.format == "json" else report.to_text())
    return report.exit_code


def add_parser(commands):
    parser = commands.add_parser(
        "crosscheck", help="compare your own chapter code (.py or .ipynb) with the reference, "
                           "function by function, at the same seeds")
    parser.add_argument("path", metavar="PATH", help="your .py file or .ipynb notebook")
    parser.add_argument("--only", nargs="+", metavar="NAME",
                        help="only these checks (check names or book names)")
    parser.add_argument("--format", choices=["text", "json"], default="text")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT,
                        help=f"seconds per check (default: {DEFAULT_TIMEOUT:g})")
    parser.set_defaults(run=crosscheck_command)
    return parser
