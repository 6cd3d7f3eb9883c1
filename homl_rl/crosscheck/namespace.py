"""In a notebook: what the reader's training loops left in the kernel's namespace, checked
without running them again.

``crosscheck()`` in a kernel reads, besides the kernel's input history, the values of a few
of the book's names in the kernel's namespace (:func:`plain_values`: copied to plain lists,
arrays and numbers; the reader's live objects go nowhere). For each training loop that
:func:`homl_rl.crosscheck.loops.find_loops` finds, :class:`KernelRuns` decides whether its
result is still there (:data:`RESULTS`): the loop keeps it under the book's name, the name
is set before the loop, no top-level statement run after the loop assigns it again (each
DQN variant's cell starts with ``rewards = []``; the dueling cell assigns ``Q_values``), and
the kernel's seeding makes the run reproducible (:func:`seeding_gaps`). Such a result is
compared with our run at the same seeds, here, in this process:

- the basic policy's ``totals``: the sum of rewards of each episode of
  :func:`homl_rl.environments.evaluate_policy`;
- Q-learning's ``Q_values``: the table :func:`homl_rl.markov.q_learning` leaves after as
  many iterations as the loop's ``range``;
- a DQN variant's ``rewards``: the book's ``step`` of each episode (its length minus one)
  of :func:`homl_rl.crosscheck.checks.runs.our_dqn_record`, over the run rows' budget.

A match is a passing row and the loop is not run again; a difference is a failing row,
with the hint of a known loop mistake whose run gives the reader's values, and the loop is
re-run to find the step where it departs. A result that cannot be compared is said why, and
the loop is re-run. The book's own cells seed TensorFlow with ``tf.random.set_seed(42)``
alone, which leaves Keras' initializers unseeded: a kernel that ran them as written cannot
reproduce its own ``rewards`` (not the reader's mistake: a SKIPPED row says so).
"""

import ast
import copy
from dataclasses import dataclass

import numpy as np

from homl_rl.crosscheck.checks.runs import (
    LOOP_HYPERPARAMETERS, NOTEBOOK_SEED, Q_LEARNING_LOOP_MISTAKES, Q_TABLE_TOLERANCE,
    dqn_loop_mistakes, dqn_variant, our_basic_policy_record, our_dqn_record,
    our_q_learning_record)
from homl_rl.crosscheck.loops import loop_kind
from homl_rl.crosscheck.report import FAIL, PASS, SKIPPED, CheckResult

RESULTS = {"basic_policy": "totals", "q_learning": "Q_values", "dqn": "rewards"}
"""loop kind -> the book's name its loop leaves its result under (in the kernel's namespace)"""

NO_RESULT = {
    "policy_gradients": "the book's loop prints its mean rewards and keeps no list of them",
    "lander": "exercise 8's loop prints its mean rewards and keeps no list of them",
}
"""loop kind -> why its result cannot be read from the namespace"""

NAMES = (*RESULTS.values(), *LOOP_HYPERPARAMETERS)
"""the names :func:`plain_values` reads from the kernel's namespace"""

BOOK_SEEDING = (
    "cannot reproduce ours, and that is not your mistake: your kernel seeded TensorFlow with "
    "tf.random.set_seed(42) alone{where}, as the book's cells do, which leaves Keras' "
    "initializers unseeded, so the model started from other weights than ours (two runs of "
    "the book's cells differ too); tf.keras.utils.set_random_seed(42) before building the "
    "model seeds them")
"""the reason a kernel that ran the book's DQN cells as written is not compared"""

OUTSIDE_THE_LOOP = (
    "differs from ours, yet your loop, re-run on our objects at the notebook's seeds, plays "
    "ours (the next row): the difference comes from outside your loop, not from it (a random "
    "draw between your seeding and your loop, a cell run twice, a value changed by hand)")
"""why a result that differs is not failed when the loop's re-run passes"""


def _plain(value):
    """``value`` as plain data (a number, a list of numbers, a float array), or ``None``."""
    if isinstance(value, (bool, np.bool_)):
        return None
    if isinstance(value, (int, float, np.integer, np.floating)):
        return value.item() if isinstance(value, np.generic) else value
    if isinstance(value, (list, tuple, np.ndarray)):
        try:
            array = np.array(value)
        except (TypeError, ValueError):
            return None
        if array.dtype.kind in "iuf" and array.size == len(value):  # numbers, not nested
            return array.tolist()
        if isinstance(value, np.ndarray) and array.dtype.kind in "iuf":
            return array.astype(float)
    return None


def plain_values(user_ns):
    """The kernel namespace's values of :data:`NAMES`: ``{name: plain value}`` for those that
    are numbers, lists of numbers or numeric arrays, ``{name: None}`` for the others there
    (and nothing for those not there)."""
    return {name: _plain(user_ns[name]) for name in NAMES if name in user_ns}


# --- the kernel's history ---------------------------------------------------------------------

def _statements(loaded):
    statements = []
    for cell_index, (filename, source, _) in enumerate(loaded.cells):
        try:
            tree = ast.parse(source, filename)
        except SyntaxError:
            continue
        statements += [(cell_index, filename, stmt) for stmt in tree.body]
    return statements


def _assigned(stmt):
    """The names a top-level statement binds (not inside its functions, classes, lambdas or
    comprehensions)."""
    names, todo = set(), [stmt]
    while todo:
        node = todo.pop()
        if isinstance(node, ast.Name) and isinstance(node.ctx, (ast.Store, ast.Del)):
            names.add(node.id)
        if node is not stmt and isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef,
                                                  ast.ClassDef, ast.Lambda, ast.ListComp,
                                                  ast.SetComp, ast.DictComp, ast.GeneratorExp)):
            continue
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)  # a top-level def binds its name, not its body's
            continue
        todo += list(ast.iter_child_nodes(node))
    return names


def _call(stmt):
    """The call a top-level statement is, or assigns (``obs, info = env.reset(seed=42)``)."""
    value = stmt.value if isinstance(stmt, (ast.Expr, ast.Assign)) else None
    return value if isinstance(value, ast.Call) else None


def _seed_argument(call, keyword="seed"):
    arguments = call.args[:1] + [k.value for k in call.keywords if k.arg == keyword]
    return next((a.value for a in arguments if isinstance(a, ast.Constant)), None)


def _seeds(stmt):
    """What a top-level statement seeds, as ``{"keras", "tf", "numpy", "env"}`` -> seed."""
    call = _call(stmt)
    if call is None:
        return {}
    function = ast.unparse(call.func)
    seed = _seed_argument(call)
    if function.split(".")[-1] == "set_random_seed":  # Python, NumPy, TF and Keras at once
        return {"keras": seed, "tf": seed, "numpy": seed}
    if function.endswith("random.set_seed"):
        return {"tf": seed}
    if function in ("np.random.seed", "numpy.random.seed"):
        return {"numpy": seed}
    if function == "env.reset" and any(k.arg == "seed" for k in call.keywords):
        return {"env": _seed_argument(call)}
    return {}


def _resolved(node, constants):
    """``node``, or the constant it names (a name in ``constants``)."""
    if isinstance(node, ast.Name) and node.id in constants:
        return ast.Constant(constants[node.id])
    return node


def _constant_seeds(statements):
    """``statements`` (``[(cell, filename, stmt)]``, in order) with each seed given by name
    (``seed = 42``, then ``tf.keras.utils.set_random_seed(seed)``) replaced by the constant
    that name holds there: the last top-level ``name = constant`` before it, unless another
    statement assigned the name since. The seeding calls so rewritten are copies."""
    constants, resolved = {}, []
    for cell, filename, stmt in statements:
        if None in _seeds(stmt).values():  # a seed that is not a constant
            stmt = copy.deepcopy(stmt)
            call = _call(stmt)
            call.args[:1] = [_resolved(argument, constants) for argument in call.args[:1]]
            for keyword in call.keywords:
                if keyword.arg == "seed":
                    keyword.value = _resolved(keyword.value, constants)
        resolved.append((cell, filename, stmt))
        for name in _assigned(stmt):
            constants.pop(name, None)
        if isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.Constant):
            constants.update({target.id: stmt.value.value for target in stmt.targets
                              if isinstance(target, ast.Name)})
    return resolved


def _last(statements, what):
    """The seed of the last of ``statements`` (``[(filename, stmt)]``) that seeds ``what``."""
    seeds = [_seeds(stmt)[what] for _, stmt in statements if what in _seeds(stmt)]
    return seeds[-1] if seeds else None


@dataclass
class History:
    """The kernel's top-level statements around one training loop."""
    before: list
    """``[(filename, stmt)]`` since the previous training loop, up to this one"""
    after: list
    """``[(filename, stmt)]`` run after this loop, to the last cell"""
    loop: ast.stmt


def history_around(loaded, loop):
    """The :class:`History` of ``loop`` (a :class:`~.loops.Loop`) in ``loaded``."""
    statements = _constant_seeds(_statements(loaded))
    position = next(i for i, (cell, _, stmt) in enumerate(statements)
                    if (cell, stmt.lineno) == tuple(loop.stmt))
    start = max((i + 1 for i, (_, _, stmt) in enumerate(statements[:position])
                 if loop_kind(stmt) is not None), default=0)
    return History([(f, s) for _, f, s in statements[start:position]],
                   [(f, s) for _, f, s in statements[position + 1:]], statements[position][2])


def _where(filename, stmt):
    return f"{filename}, line {stmt.lineno}: {ast.unparse(stmt).splitlines()[0]}"


def later_assignment(history, name):
    """Where a statement after the loop assigns ``name`` again (``None``: none does)."""
    return next((_where(f, s) for f, s in history.after if name in _assigned(s)), None)


def _model_builds(history):
    """The positions in ``history.before`` of its ``model = ...`` statements."""
    return [i for i, (_, s) in enumerate(history.before) if "model" in _assigned(s)
            and isinstance(s, (ast.Assign, ast.AnnAssign))]


def books_seeding(history, seed):
    """:data:`BOOK_SEEDING`, where the model of a DQN loop was built after
    ``tf.random.set_seed(seed)`` with Keras' initializers unseeded (the book's cells as
    written); ``None`` otherwise."""
    builds = _model_builds(history)
    if not builds or _last(history.before[:builds[-1]], "keras") == seed:
        return None
    tf_seeds = [(f, s) for f, s in history.before[:builds[-1]] if _seeds(s).get("tf") == seed]
    if not tf_seeds:
        return None
    filename, stmt = tf_seeds[-1]
    return BOOK_SEEDING.format(where=f" ({filename}, line {stmt.lineno})")


def seeding_gaps(kind, history, seed):
    """Why the kernel's run of the loop cannot reproduce ours at ``seed``: ``[]`` if it can.

    DQN: ``tf.keras.utils.set_random_seed(seed)`` (or another ``set_random_seed``) since the
    previous training loop and before the model's last ``model = ...`` (the initial weights),
    then NumPy seeded and ``env.reset(seed=seed)`` after it, as
    :func:`homl_rl.dqn.make_agent` does; Q-learning: NumPy seeded before the loop, as
    :func:`homl_rl.markov.q_learning` does; the basic policy: each episode's
    ``env.reset(seed=episode)`` in the loop, as :func:`homl_rl.environments.evaluate_policy`
    does.
    """
    if kind == "basic_policy":
        target = history.loop.target if isinstance(history.loop, ast.For) else None
        variable = target.id if isinstance(target, ast.Name) else None
        resets = [sub for sub in ast.walk(history.loop) if isinstance(sub, ast.Call)
                  and ast.unparse(sub.func).endswith("reset")]
        if variable and any(isinstance(k.value, ast.Name) and k.value.id == variable
                            for call in resets for k in call.keywords if k.arg == "seed"):
            return []
        return ["your loop does not reset the environment with seed=episode at each episode"]
    if kind == "q_learning":
        if _last(history.before, "numpy") == seed:
            return []
        return [f"NumPy is not seeded with {seed} before your loop (np.random.seed({seed}))"]
    builds = _model_builds(history)
    if not builds:
        return ["no model = ... since the previous training loop: your loop trained a model "
                "that earlier cells had already used"]
    build = builds[-1]
    gaps = []
    if _last(history.before[:build], "keras") != seed:
        gaps.append(books_seeding(history, seed)
                    or f"Keras' initializers are not seeded with {seed} before your model is "
                       f"built (tf.keras.utils.set_random_seed({seed}))")
    if _last(history.before[build + 1:], "numpy") != seed:
        gaps.append(f"NumPy is not seeded with {seed} between your model and your loop")
    if _last(history.before[build + 1:], "env") != seed:
        gaps.append(f"the environment is not reset with seed={seed} between your model and "
                    "your loop")
    return gaps


# --- the comparisons --------------------------------------------------------------------------

def dqn_steps(episodes):
    """The book's ``rewards`` of recorded episodes: each episode's ``step``, its length - 1."""
    return [len(episode["actions"]) - 1 for episode in episodes]


def _episodes(n, theirs):
    """``n`` of the reader's episodes, said with their number (the budget may be fewer)."""
    return (f"your {n} episodes" if n == len(theirs) else
            f"the first {n} of your {len(theirs)} episodes (the run rows' budget)")


def _first_index(ours, theirs):
    return next((i for i, (a, b) in enumerate(zip(ours, theirs)) if a != b), None)


def compare_dqn(loop, theirs, budget, readers_values):
    """``(row status, detail, hint)`` of a DQN loop's ``rewards`` against ours."""
    variant = dqn_variant(loop).name
    n = min(len(theirs), budget)
    ours = dqn_steps(our_dqn_record(variant, n))
    index = _first_index(ours, theirs[:n])
    if index is None:
        return PASS, f"the same rewards as ours over {_episodes(n, theirs)}", ""
    hint = ""
    for text, run in dqn_loop_mistakes(variant, index + 1, readers_values):
        try:
            mistaken = dqn_steps(run())
        except Exception:  # noqa: BLE001 -- a mistake we cannot play is no hint
            continue
        if mistaken[:index + 1] == theirs[:index + 1]:
            hint = text
            break
    return FAIL, (f"episode {index}: your rewards[{index}] is {theirs[index]}, ours "
                  f"{ours[index]} (the {index} episodes before it agree)"), hint


def compare_basic_policy(loop, theirs, budget, readers_values):
    """``(status, detail, hint)`` of the basic policy's ``totals`` against ours."""
    n = min(len(theirs), budget)
    ours = [sum(episode["rewards"]) for episode in our_basic_policy_record(n)]
    index = _first_index(ours, theirs[:n])
    if index is None:
        return PASS, f"the same totals as ours over {_episodes(n, theirs)}", ""
    return FAIL, (f"episode {index}: your totals[{index}] is {theirs[index]:g}, ours "
                  f"{ours[index]:g} (the {index} episodes before it agree)"), ""


def _iterations(loop):
    """The loop's ``range(N)``'s N, if it is a constant."""
    it = loop.iter if isinstance(loop, ast.For) else None
    if (isinstance(it, ast.Call) and isinstance(it.func, ast.Name) and it.func.id == "range"
            and len(it.args) == 1 and isinstance(it.args[0], ast.Constant)):
        return it.args[0].value
    return None


def compare_q_learning(loop_stmt, theirs):
    """``(status, detail, hint)`` of Q-learning's ``Q_values`` against our table."""
    n = _iterations(loop_stmt)
    theirs = np.asarray(theirs, dtype=float)
    _, ours = our_q_learning_record(n)

    def same(table):
        return table.shape == theirs.shape and np.allclose(table, theirs, rtol=0,
                                                           atol=Q_TABLE_TOLERANCE)
    if same(ours):
        return PASS, f"the same Q-value table as ours after {n} iterations", ""
    hint = next((mistake.hint for mistake in Q_LEARNING_LOOP_MISTAKES
                 if same(our_q_learning_record(n, mistake.mutation)[1])), "")
    return FAIL, (f"after {n} iterations your Q_values differ from ours: yours "
                  f"{np.round(theirs, 6).tolist()}, ours {np.round(ours, 6).tolist()}"), hint


# --- the rows -------------------------------------------------------------------------------

class KernelRuns:
    """The loops' results in a kernel's namespace: a row for each loop that can be checked
    from them, and a line for the report on every loop (checked, re-run, or why not).

    ``loaded``: the kernel's history (:func:`~.loader.from_cells`); ``values``:
    :func:`plain_values` of its namespace; ``budget(kind)``: the run rows' budget of that
    loop kind, in episodes.
    """

    def __init__(self, loaded, values, budget):
        self.loaded, self.values, self.budget = loaded, values, budget
        self.lines = []
        """one line per loop: checked from the namespace, re-run, or not checked, and why"""

    def why_not(self, loop, history):
        """Why ``loop``'s result cannot be compared from the namespace, and whether that is
        the book's own seeding (not the reader's mistake): ``(None, False)`` if it can."""
        if loop.kind not in RESULTS:
            return NO_RESULT.get(loop.kind, "its result is not read from the namespace"), False
        name = RESULTS[loop.kind]
        if name not in {n.id for n in ast.walk(history.loop) if isinstance(n, ast.Name)}:
            return f"your loop keeps no {name}, where the book's keeps its result", False
        if not any(name in _assigned(s) for _, s in history.before):
            return f"{name} is not set between the previous training loop and this one", False
        later = later_assignment(history, name)
        if later is not None:
            return f"{name} was assigned again after the loop, at {later}", False
        if name not in self.values:
            return f"{name} is not in the kernel's namespace", False
        if self.values[name] is None or len(self.values[name]) == 0:
            return f"the kernel's {name} is not a non-empty list (or array) of numbers", False
        if loop.kind == "dqn" and dqn_variant(loop) is None:
            return "the training_step above the loop is none of the chapter's variants'", False
        if loop.kind == "q_learning" and _iterations(history.loop) is None:
            return "the loop's number of iterations is not a constant range(N)", False
        gaps = seeding_gaps(loop.kind, history, NOTEBOOK_SEED)
        if not gaps:
            return None, False
        books = loop.kind == "dqn" and gaps[0] == books_seeding(history, NOTEBOOK_SEED)
        return "; ".join(gaps), books

    def check(self, loop, title):
        """``(row or None, re-run?)``: the namespace's row of ``loop``, and whether the loop
        must still be run again (its result could not be compared, or differs)."""
        history = history_around(self.loaded, loop)
        name = RESULTS.get(loop.kind)
        why, books = self.why_not(loop, history)
        if why is not None:
            self.lines.append(f"{title} ({loop.where}): re-run; not checked from the kernel's "
                              f"namespace: {why}")
            if books:  # the book's cells as written: said in a row, never a failure
                return CheckResult(f"{title}, the kernel's {name}", SKIPPED,
                                   detail=f"your {name} {why}; the loop is re-run instead "
                                          "(the next row)"), True
            return None, True
        theirs = self.values[name]
        readers = {n: self.values[n] for n in LOOP_HYPERPARAMETERS
                   if isinstance(self.values.get(n), (int, float))}
        if loop.kind == "q_learning":
            status, detail, hint = compare_q_learning(history.loop, theirs)
        else:
            compare = {"dqn": compare_dqn, "basic_policy": compare_basic_policy}[loop.kind]
            status, detail, hint = compare(loop, theirs, self.budget(loop.kind), readers)
        source = f"your kernel's {name}, from your loop at {loop.where}, not re-run"
        row = CheckResult(f"{title}, the kernel's {name}", status, 0.0 if status == PASS else None,
                          detail=f"{detail} ({source})", hint=hint,
                          where=detail.split(":")[0] if status == FAIL else "")
        if status == PASS:
            self.lines.append(f"{title} ({loop.where}): checked from the kernel's {name}, "
                              "no re-run")
            return row, False
        self.lines.append(f"{title} ({loop.where}): checked from the kernel's {name}: it "
                          "differs from ours; re-run to find the step where it departs")
        return row, True

    def reconcile(self, row, rerun):
        """The namespace's ``row`` once the loop's re-run row ``rerun`` is known: a failure
        that no known mistake explains, of a loop whose re-run passes, is no mistake of the
        reader's loop: a SKIPPED row saying so (and the report's line too)."""
        if row is None or row.status != FAIL or row.hint or rerun.status != PASS:
            return row
        name = row.check.rsplit("the kernel's ", 1)[-1]
        self.lines[-1] = self.lines[-1].replace(
            "differs from ours; re-run to find the step where it departs",
            "differs from ours, but the re-run loop plays ours: the difference comes from "
            "outside the loop")
        return CheckResult(row.check, SKIPPED, detail=f"your {name} {OUTSIDE_THE_LOOP}; "
                                                      f"{row.detail}", where=row.where)
