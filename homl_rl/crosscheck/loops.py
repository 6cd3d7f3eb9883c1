"""The chapter's training loops in a reader's file: which top-level loop trains what.

The loader (:mod:`.loader`) skips every top-level loop. This module finds, among them,
the chapter's training loops, told apart by the book's names they call:

- ``basic_policy``: the basic policy's 500 episodes (``basic_policy`` called);
- ``q_learning``: Q-learning's iterations (``step`` called, ``Q_values`` updated);
- ``dqn``: a DQN variant's episodes (``play_one_step`` and ``training_step`` called);
- ``policy_gradients``: REINFORCE's iterations on CartPole (``play_multiple_episodes``);
- ``lander``: exercise 8's on LunarLander (``lander_play_multiple_episodes``).

For each it gives what a run row needs: the loop statement, its *preamble* (of the
statements since the previous training loop, those that seed and reset,
``env.reset(seed=42)``, ``np.random.seed``, ``tf.random.set_seed``, and the simple
assignments such as ``rewards = []``; statements that build what the row gives itself,
``model = ...`` or ``replay_buffer = deque(...)``, are not run, nor is anything else), and the *bindings*: for each name the file defines, its last definition above
the loop (the notebook redefines ``training_step`` and ``play_one_step``: each loop runs
with the ones above it, as the kernel would).
"""

import ast
from dataclasses import dataclass, field

from homl_rl.crosscheck.loader import _is_simple

TRAINED = ("env", "model", "target", "optimizer", "loss_fn", "replay_buffer", "Q_values")
"""the objects a run row gives the reader's loop (copies of ours at the notebook's seeds):
a preamble's assignment to one of them is not run"""

SEEDING_CALLS = ("seed", "set_seed", "set_random_seed", "reset")
"""the calls a preamble runs: ``np.random.seed(42)``, ``tf.random.set_seed(42)``,
``tf.keras.utils.set_random_seed(42)``, ``env.reset(seed=42)``, ``env.action_space.seed(42)``"""

@dataclass
class Loop:
    """A training loop found in the reader's file."""
    kind: str
    """``"basic_policy"``, ``"q_learning"``, ``"dqn"``, ``"policy_gradients"`` or ``"lander"``"""
    stmt: tuple
    """(cell index, line number) of the loop statement"""
    where: str
    preamble: list = field(default_factory=list)
    """ids of the statements above it that run first"""
    not_run: list = field(default_factory=list)
    """descriptions of the preamble's statements that do not run (the row gives those objects)"""
    bindings: dict = field(default_factory=dict)
    """name -> id of its last definition above the loop"""
    uses_target: bool = False
    """(DQN) the ``training_step`` it calls reads a target network"""
    uses_argmax: bool = False
    """(DQN) ... and picks the next action with ``argmax`` (Double DQN)"""
    dueling_above: bool = False
    """(DQN) the dueling cell's formula (``advantages = ...raw_advantages...``) comes between
    the previous DQN loop and this one"""
    notes: list = field(default_factory=list)
    """what the loop does that the book's does not, harmless here (the row says so)"""


def _called(node):
    names = set()
    for sub in ast.walk(node):
        if isinstance(sub, ast.Call):
            if isinstance(sub.func, ast.Name):
                names.add(sub.func.id)
            elif isinstance(sub.func, ast.Attribute):
                names.add(sub.func.attr)
    return names


def _names(node):
    return {sub.id for sub in ast.walk(node) if isinstance(sub, ast.Name)}


def loop_kind(stmt):
    """What a top-level loop statement trains, by the book's names it calls; ``None``: no
    training loop of the chapter."""
    if not isinstance(stmt, (ast.For, ast.While)):
        return None
    called = _called(stmt)
    if "lander_play_multiple_episodes" in called:
        return "lander"
    if "play_multiple_episodes" in called:
        return "policy_gradients"
    if {"play_one_step", "training_step"} <= called:
        return "dqn"
    if "basic_policy" in called:
        return "basic_policy"
    if "step" in called and "Q_values" in _names(stmt):
        return "q_learning"
    return None


def _is_seeding(stmt):
    value = stmt.value if isinstance(stmt, (ast.Expr, ast.Assign)) else None
    return (isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute)
            and value.func.attr in SEEDING_CALLS)


def _targets(stmt):
    targets = stmt.targets if isinstance(stmt, ast.Assign) else [getattr(stmt, "target", None)]
    return [t for t in targets if t is not None]


def _short(assignment):
    """An assignment as a report line says it: a call's arguments elided,
    ``model = tf.keras.Sequential(...)``."""
    value = assignment.value
    if value is None:  # a bare annotation, `model: tf.keras.Model`
        return ast.unparse(assignment)
    if isinstance(value, ast.Call) and (value.args or value.keywords):
        value = ast.Call(value.func, [ast.Name("...")], [])
    targets = " = ".join(ast.unparse(t) for t in _targets(assignment))
    return f"{targets} = {ast.unparse(value)}"


def _preamble(statements, position, start, kind):
    """The preamble of the loop at ``statements[position]``: ``(ids to run, not run)``.

    The statements since the previous training loop (``statements[start:position]``,
    across cells: the notebook seeds in the cell before the model's or in the loop's own):
    its seeding calls and simple assignments run, in order; its assignments to what the row
    gives (:data:`TRAINED`) are listed as not run (with what the row gives in their stead:
    ``Q_values`` to Q-learning's loop only); everything else is skipped, as the loader
    skips it.
    """
    run, not_run = [], []
    for cell, filename, stmt in statements[start:position]:
        where = f"{filename}, line {stmt.lineno}"
        assigned = {n.id for t in _targets(stmt) for n in ast.walk(t) if isinstance(n, ast.Name)}
        if _is_seeding(stmt) and not (assigned & set(TRAINED)):
            run.append((cell, stmt.lineno))
        elif assigned & set(TRAINED) and isinstance(stmt, (ast.Assign, ast.AnnAssign)):
            names = assigned & set(TRAINED)
            given = names if kind == "q_learning" else names - {"Q_values"}
            why = (f"the row gives {', '.join(sorted(given))}" if given
                   else f"the row runs no assignment to {', '.join(sorted(names))}")
            not_run.append(f"{where}: {_short(stmt)} ({why})")
        elif (isinstance(stmt, (ast.Assign, ast.AnnAssign)) and stmt.value is not None
              and _is_simple(stmt.value) and all(isinstance(t, ast.Name) for t in _targets(stmt))):
            run.append((cell, stmt.lineno))
    return run, not_run


def _swapped_unpacking(stmt):
    """Whether the loop unpacks ``..., done, info, truncated = ...step(...)`` (the notebook's
    fixed-Q-targets cells did): ``info`` and ``truncated`` swapped."""
    for sub in ast.walk(stmt):
        if (isinstance(sub, ast.Assign) and len(sub.targets) == 1
                and isinstance(sub.targets[0], ast.Tuple) and len(sub.targets[0].elts) == 5
                and all(isinstance(e, ast.Name) for e in sub.targets[0].elts)
                and [e.id for e in sub.targets[0].elts][3:] == ["info", "truncated"]):
            return True
    return False


HARMLESS_UNPACKING = (
    "your loop unpacks `obs, reward, done, info, truncated` (info and truncated swapped, as "
    "the notebook's own fixed-Q-targets cells once did): harmless here, CartPole's loops stop "
    "at 200 steps, before its 500-step truncation, and its info is empty, so `done or "
    "truncated` is `done`")


def find_loops(loaded):
    """The chapter's training loops in ``loaded`` (a :class:`~.loader.LoadedSource`), in order."""
    statements = []
    for cell_index, (filename, source, _) in enumerate(loaded.cells):
        try:
            tree = ast.parse(source, filename)
        except SyntaxError:
            continue
        statements += [(cell_index, filename, stmt) for stmt in tree.body]
    definitions = sorted(loaded.definitions, key=lambda d: tuple(d.stmt))
    loops, last_dqn, last_loop = [], -1, -1
    for position, (cell, filename, stmt) in enumerate(statements):
        kind = loop_kind(stmt)
        if kind is None:
            continue
        stmt_id = (cell, stmt.lineno)
        preamble, not_run = _preamble(statements, position, last_loop + 1, kind)
        last_loop = position
        bindings = {}
        for definition in definitions:
            if tuple(definition.stmt) < stmt_id:
                bindings[definition.name] = tuple(definition.stmt)
        loop = Loop(kind, stmt_id, f"{filename}, line {stmt.lineno}", preamble, not_run, bindings)
        if kind == "dqn":
            step = next((d for d in reversed(definitions) if d.name == "training_step"
                         and d.kind == "def" and tuple(d.stmt) < stmt_id), None)
            step = step or next((d for d in reversed(definitions) if d.name == "training_step"
                                 and d.kind == "def"), None)
            if step is not None:
                loop.uses_target = "target" in step.names_used
                loop.uses_argmax = loop.uses_target and "argmax" in step.names_used
            loop.dueling_above = any(
                isinstance(s, ast.Assign) and "advantages" in {t.id for t in s.targets
                                                              if isinstance(t, ast.Name)}
                and "raw_advantages" in _names(s.value)
                for _, _, s in statements[last_dqn + 1:position])
            last_dqn = position
        if _swapped_unpacking(stmt):
            loop.notes.append(HARMLESS_UNPACKING)
        loops.append(loop)
    return loops
