"""Checks of sections "Markov Decision Processes" and "Q-Learning" (:mod:`homl_rl.markov`)."""

import numpy as np

from homl_rl import markov
from homl_rl.crosscheck.checks.base import PerSeed, seeds, by_seed, check, compare_result, compare_seeds
from homl_rl.crosscheck.diff import compare
from homl_rl.crosscheck import hints
from homl_rl.crosscheck.mutate import mutated, mutated_source
from homl_rl.crosscheck.report import ERROR, FAIL, SKIPPED, CheckResult, failure


@check("run_chain", "run_chain")
def check_run_chain(ctx):
    n_runs = 10

    def runs_at(run_chain):
        def at(seed):
            np.random.seed(seed)
            return [[int(s) for s in run_chain(0)] for _ in range(n_runs)]
        return at

    answers = ctx.call_seeds(ctx.latest("run_chain", "def"),
                             [[([0], {}) for _ in range(n_runs)]] * len(seeds()),
                             globals={"transition_probabilities": markov.chain_transition_probabilities,
                                      "terminal_states": markov.terminal_states, "n_max_steps": 1000})
    theirs = []
    for answer in answers:
        runs = []
        for result, printed in zip(answer["results"], answer["printed"]):
            if isinstance(result, (list, tuple, np.ndarray)):
                runs.append([int(s) for s in result])
            else:  # the notebook's run_chain prints the states
                runs.append([int(token) for token in printed.split() if token.isdigit()])
        theirs.append(runs)
    start_row = mutated(markov.run_chain, hints.RUN_CHAIN_START_ROW.mutation)
    return compare_seeds(f"run_chain (ten runs from s0, {len(seeds())} seeds)",
                         by_seed(runs_at(markov.run_chain)), theirs,
                         [(hints.RUN_CHAIN_START_ROW.hint, PerSeed(runs_at(start_row)))])


@check("MDP tables + Q-value iteration", "transition_probabilities", "rewards", "possible_actions")
def check_mdp_tables(ctx):
    name = "MDP tables + Q-value iteration"
    ours = {"transition_probabilities": markov.transition_probabilities,
            "rewards": markov.rewards, "possible_actions": markov.possible_actions}
    tables = {}
    for table, reference in ours.items():
        candidates = [d for d in ctx.loaded.versions(table) if d.kind == "value"]
        if not candidates:
            return CheckResult(name, SKIPPED, detail=f"no {table} table assigned")
        values = ctx.values(candidates)
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
            return failure(name, diff)
    try:
        q_ours, _ = markov.q_value_iteration(0.90)
        q_theirs, _ = markov.q_value_iteration(0.90, 50, tables["transition_probabilities"],
                                               tables["rewards"], tables["possible_actions"])
    except Exception as error:  # noqa: BLE001
        return CheckResult(name, ERROR, detail=f"Q-value iteration on your tables: {error}")
    return compare_result(name, q_ours, q_theirs)


def _same_structure(reference, value):
    """Shaped like ``reference``, where ``None`` (an impossible action) and a row match each other."""
    if reference is None or value is None:
        return reference is None or _same_structure(value, reference)
    if isinstance(reference, list):
        return (isinstance(value, (list, tuple)) and len(value) == len(reference)
                and all(_same_structure(r, v) for r, v in zip(reference, value)))
    return isinstance(value, (int, float, np.number))


def _none_to_nan(table):
    """The table with ``None`` (an impossible action's row) as NaNs, for :func:`compare`."""
    if table is None:
        return [np.nan] * 3
    if isinstance(table, (list, tuple)):
        return [_none_to_nan(item) for item in table]
    return table


def _mdp_globals():
    """The MDP's tables, as the reader's ``step`` and ``exploration_policy`` read them."""
    return {"transition_probabilities": markov.transition_probabilities,
            "rewards": markov.rewards, "possible_actions": markov.possible_actions}


EPISODE_STEPS = 60
"""steps of the MDP walk a per-step check follows at each seed (the MDP has no end)"""


def _walk(seed, n_steps=EPISODE_STEPS):
    """A walk through the MDP at ``seed``: ``[(state, action)]`` and our ``step`` outputs.

    The actions come from their own generator, so that the global NumPy generator (seeded
    with ``seed``) is drawn only by ``step``, as the reader's will be.
    """
    actions = np.random.default_rng(seed)
    np.random.seed(seed)
    pairs, outputs, state = [], [], 0
    for _ in range(n_steps):
        action = int(actions.choice(markov.possible_actions[state]))
        next_state, reward = markov.step(state, action)
        pairs.append((state, action))
        outputs.append((int(next_state), int(reward)))
        state = int(next_state)
    return pairs, outputs


@check("step (Q-learning)", "step")
def check_step(ctx):
    definition = next((d for d in reversed(ctx.loaded.versions("step")) if d.kind == "def"), None)
    if definition is None:
        return CheckResult("step (Q-learning)", SKIPPED, detail="step is not a function here")
    walks = by_seed(_walk)
    answers = ctx.call_seeds(definition, [[([s, a], {}) for s, a in pairs] for pairs, _ in walks],
                             globals=_mdp_globals())
    theirs = [[tuple(r) if isinstance(r, (tuple, list)) else r for r in answer["results"]]
              for answer in answers]
    most_likely = mutated(markov.step, hints.STEP_MOST_LIKELY.mutation)

    def replayed(step_fn):  # a mistaken step on our walks' (state, action) pairs
        def at(seed, pairs):
            np.random.seed(seed)
            return [tuple(int(x) for x in step_fn(s, a)) for s, a in pairs]
        pairs_at = {seed: pairs for seed, (pairs, _) in zip(seeds(), walks)}
        return PerSeed(lambda seed: at(seed, pairs_at[seed]))

    return compare_seeds("step (Q-learning)", [outputs for _, outputs in walks], theirs,
                         [(hints.STEP_MOST_LIKELY.hint, replayed(most_likely))])


@check("exploration_policy", "exploration_policy")
def check_exploration_policy(ctx):
    states = [0, 1, 2] * 20

    def actions(policy):
        def at(seed):
            np.random.seed(seed)
            return [int(policy(s)) for s in states]
        return at

    answers = ctx.call_seeds(ctx.latest("exploration_policy", "def"),
                             [[([s], {}) for s in states]] * len(seeds()), globals=_mdp_globals())
    impossible = mutated(markov.exploration_policy, hints.EXPLORES_IMPOSSIBLE.mutation)
    return compare_seeds("exploration_policy", by_seed(actions(markov.exploration_policy)),
                         [a["results"] for a in answers],
                         [(hints.EXPLORES_IMPOSSIBLE.hint, PerSeed(actions(impossible)))])


READER_FUNCTIONS = {"exploration_policy(state, possible_actions)": "exploration_policy(state)",
                    "step(state, action, transition_probabilities, rewards)": "step(state, action)"}
"""How :func:`homl_rl.markov.q_learning` calls its two functions -> how the notebook's
loop calls the reader's (which read the MDP tables as globals)."""


def q_learning_on_readers_functions(*mutations):
    """The code that runs our :func:`homl_rl.markov.q_learning` in the reader's namespace.

    Its calls to ``step`` and ``exploration_policy`` are rewritten to the notebook's
    signatures, so they call the reader's; every other name it reads comes from
    :mod:`homl_rl.markov`. Leaves the learnt table in ``Q_values``. ``mutations``: more
    ``(old, new)`` edits (a known mistake's).
    """
    source = mutated_source(markov.q_learning, *READER_FUNCTIONS.items(), *mutations)
    readers = {"step", "exploration_policy"}
    ours = sorted(name for name in markov.q_learning.__code__.co_names
                  if name in vars(markov) and name not in readers)
    return (f"from homl_rl.markov import {', '.join(ours)}\n{source}\n"
            "Q_values, history = q_learning()\n")


@check("Q-learning (notebook's loop, your step and exploration_policy)", "step",
       "exploration_policy")
def check_q_learning(ctx):
    name = "Q-learning (notebook's loop, your step and exploration_policy)"
    ours, _ = markov.q_learning()
    variables = dict(_mdp_globals(), np=("__module__", "numpy"))
    theirs = ctx.worker.request(ctx.timeout, op="snippet", code=q_learning_on_readers_functions(),
                                result="Q_values", variables=variables)
    return compare_result(name, ours, theirs)
