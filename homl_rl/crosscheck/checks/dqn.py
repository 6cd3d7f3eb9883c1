"""Checks of sections "Deep Q-Network" to "Dueling Double DQN" (:mod:`homl_rl.dqn`).

Our side is the agent of the variant's row (:data:`homl_rl.variants.CHAPTER_VARIANTS`), run with the
fast engine (:mod:`homl_rl.engines.dqn`): the Q-values and actions ``model.predict`` gives,
proven so by the DQN tests, without ``predict``'s tens of milliseconds a call. The reader's
side runs the reader's code as it is.
"""

from collections import deque

import gymnasium as gym
import numpy as np

from homl_rl.crosscheck import hints
from homl_rl.crosscheck.checks.base import (
    PerSeed, by_seed, check, compare_result, compare_seeds, experiences, first_matching_hint,
    model_spec, random_cartpole_observations, seeds)
from homl_rl.crosscheck.diff import compare
from homl_rl.crosscheck.mutate import assignments, mutated_class
from homl_rl.crosscheck.report import PASS, SKIPPED, CheckResult, failure
from homl_rl.dqn import (
    DQN, agent_class as variant_agent_class, build_dueling_q_network, clone_target,
    q_network_builder)
from homl_rl.seeding import set_seeds
from homl_rl.tf_setup import tf
from homl_rl.variants import CHAPTER_VARIANTS

TRAINING_BATCH_SIZE = 16
DISCOUNT_FACTOR = 0.95
REPLAY_BUFFER_SIZE = 2000
N_OUTPUTS = 2
MAX_EPISODE_STEPS = gym.spec("CartPole-v1").max_episode_steps
"""CartPole-v1's own limit (500): a per-step check runs whole episodes"""


def _q_network(variant="dqn", seed=42):
    set_seeds(seed)
    return q_network_builder(variant)((4,), N_OUTPUTS)


def _agent(model, variant="dqn", agent_class=None, **fields):
    """Our agent for ``variant`` (or ``agent_class``), on the fast engine."""
    agent_class = agent_class or variant_agent_class(variant)
    return agent_class(model=model, n_outputs=N_OUTPUTS, engine="fast", **fields)


def _leaning_q_network(lean=0.06):
    """The chapter's Q-network, leaning to "push right" (``lean`` added to that Q-value).

    Its greedy actions still vary (about four in five push right), but its episodes end
    within about twenty steps instead of eighty, so whole episodes at every seed stay quick
    on the reader's side, where each step is a ``model.predict`` call.
    """
    model = _q_network()
    weights = model.get_weights()
    weights[-1] = weights[-1] + np.array([0.0, lean], dtype=weights[-1].dtype)
    model.set_weights(weights)
    return model


def _negated(model):
    """A network whose Q-values are ``model``'s negated: its argmax is ``model``'s argmin."""
    inputs = tf.keras.Input(shape=model.input_shape[1:])
    return tf.keras.Model(inputs, -model(inputs))


@check("epsilon_greedy_policy", "epsilon_greedy_policy")
def check_epsilon_greedy_policy(ctx):
    model = _q_network()
    states = random_cartpole_observations(12, seed=5)
    epsilons = [0.0, 0.5, 1.0, 0.1, 0.9, 0.0] * 2

    def policy(agent):
        """The agent's actions at a seed."""
        def at(seed):
            np.random.seed(seed)
            return [int(agent.epsilon_greedy_policy(s, e)) for s, e in zip(states, epsilons)]
        return at

    ours = by_seed(policy(_agent(model, optimizer=None)))
    answers = ctx.call_seeds(ctx.latest("epsilon_greedy_policy", "def"),
                             [[([s, e], {}) for s, e in zip(states, epsilons)]] * len(seeds()),
                             globals={"model": model_spec(model), "n_outputs": N_OUTPUTS})

    def mutated_policy(*mutations):
        return PerSeed(policy(_agent(model, optimizer=None, agent_class=mutated_class(
            DQN, "epsilon_greedy_policy", *mutations))))

    return compare_seeds("epsilon_greedy_policy", ours, [a["results"] for a in answers], [
        (hints.EPSILON_TEST_REVERSED, mutated_policy(hints.EPSILON_TEST_REVERSED_MUTATION)),
        (hints.ARGMIN, PerSeed(policy(_agent(_negated(model), optimizer=None)))),
        *((m.hint, mutated_policy(m.mutation)) for m in hints.EPSILON_GREEDY_MISTAKES),
    ])


def _training_step_kind(definition):
    """What a reader's ``training_step`` computes, from the names it uses: whether it reads a
    target network, and whether it picks the next action with ``argmax`` (Double DQN)."""
    uses_target = "target" in definition.names_used
    return uses_target, uses_target and "argmax" in definition.names_used


def _defining_variant(variant):
    """The first chapter variant with ``variant``'s training target (target network, Double
    DQN): the one whose cell defines the ``training_step`` it trains with (the dueling
    variant's is the Double DQN's)."""
    row = CHAPTER_VARIANTS[variant]
    return next(other for other in CHAPTER_VARIANTS.values()
                if (other.target_network, other.double_dqn) == (row.target_network, row.double_dqn))


def _mistaken_agent_class(variant, mistake):
    """The agent class of a known ``training_step`` mistake (see :mod:`homl_rl.crosscheck.hints`)."""
    agent_class = DQN if mistake.online_next_q else variant_agent_class(variant)
    if mistake.method is None:
        return agent_class
    return mutated_class(agent_class, mistake.method, mistake.mutation)


def _check_training_step(ctx, variant):
    row = CHAPTER_VARIANTS[variant]
    name = f"training_step ({row.title})"
    versions = [d for d in ctx.loaded.versions("training_step")
                if d.kind == "def"
                and _training_step_kind(d) == (row.target_network, row.double_dqn)]
    if not versions:
        return CheckResult(name, SKIPPED, detail=f"no training_step for {_defining_variant(variant).title} "
                                                 "(told apart by the names it uses: target, argmax)")
    model = _q_network(variant)
    rng = np.random.default_rng(0)
    target = clone_target(model)  # a target that differs from the model, or no check could tell
    target.set_weights([w + rng.normal(0, 0.1, w.shape).astype(w.dtype) for w in model.get_weights()])
    replayed = experiences(64)
    learning_rate = row.learning_rate

    def optimizer():
        return tf.keras.optimizers.Nadam(learning_rate=learning_rate)

    def train_one_step(agent_class, uses_target, seed):
        """One training step of a fresh agent on copies of the model and the buffer."""
        agent = _agent(clone_target(model), agent_class=agent_class, optimizer=optimizer(),
                       loss_fn=tf.keras.losses.mean_squared_error,
                       replay_buffer=deque(replayed, maxlen=REPLAY_BUFFER_SIZE),
                       discount_factor=DISCOUNT_FACTOR, batch_size=TRAINING_BATCH_SIZE,
                       target=target if uses_target else None)
        np.random.seed(seed)
        loss = float(agent.training_step(TRAINING_BATCH_SIZE))
        return loss, [np.asarray(w) for w in agent.model.get_weights()]

    globals_ = {"model": model_spec(model), "target": model_spec(target),
                "optimizer": ("__optimizer__", "Nadam", optimizer().get_config()),
                "loss_fn": ("__loss__", "mean_squared_error"),
                "replay_buffer": ("__deque__", replayed, REPLAY_BUFFER_SIZE),
                "n_outputs": N_OUTPUTS, "discount_factor": DISCOUNT_FACTOR,
                "batch_size": TRAINING_BATCH_SIZE}
    # a step at each seed (each samples its own batch), from the same model each time
    answers = ctx.call_seeds(versions[-1], [[([TRAINING_BATCH_SIZE], {})]] * len(seeds()),
                             globals=globals_, collect=["model"])
    theirs = [answer["collected"]["model"] for answer in answers]
    worst = 0.0
    for seed, answer in zip(seeds(), answers):
        loss, ours = train_one_step(variant_agent_class(row), row.target_network, seed)
        diff = compare(ours, answer["collected"]["model"], where=f"seed {seed}, updated weights")
        returned = answer["results"][0]
        if diff.ok and returned is not None:  # the notebook returns nothing; a loss is welcome
            diff = compare(loss, returned, where=f"seed {seed}, returned loss")
        if not diff.ok:
            break
        worst = max(worst, diff.max_abs_diff)
    else:
        return CheckResult(name, PASS, worst)

    def mistake_weights(mistake):
        agent_class = _mistaken_agent_class(variant, mistake)
        return PerSeed(lambda seed: train_one_step(agent_class, True, seed)[1])

    candidates = [(mistake.hint, mistake_weights(mistake))
                  for mistake in hints.training_step_mistakes(row)]
    return failure(name, diff, first_matching_hint(theirs, candidates))


for _variant in CHAPTER_VARIANTS:
    check(f"training_step ({CHAPTER_VARIANTS[_variant].title})", "training_step")(
        lambda ctx, _variant=_variant: _check_training_step(ctx, _variant))


@check("play_one_step (DQN)", "play_one_step", "epsilon_greedy_policy")
def check_dqn_play_one_step(ctx):
    name = "play_one_step (DQN)"
    definitions = [d for d in ctx.loaded.versions("play_one_step")
                   if d.kind == "def" and len(d.params) == 3]
    if not definitions:
        return CheckResult(name, SKIPPED, detail="no play_one_step(env, state, epsilon)")
    model = _leaning_q_network()
    epsilons = [0.5, 0.0, 1.0, 0.2]
    agent = _agent(model, optimizer=None)

    def episode(seed):
        """A whole episode at ``seed`` (epsilons cycled): its states, outputs and buffer."""
        env = gym.make("CartPole-v1")
        obs, info = env.reset(seed=seed)
        agent.replay_buffer = deque(maxlen=REPLAY_BUFFER_SIZE)
        np.random.seed(seed)
        states, outputs = [], []
        for step in range(MAX_EPISODE_STEPS):
            states.append(obs)
            out = agent.play_one_step(env, obs, epsilons[step % len(epsilons)])
            outputs.append(out[:4])
            obs = out[0]
            if out[2] or out[3]:
                break
        return states, outputs, [list(e) for e in agent.replay_buffer]

    episodes = by_seed(episode)
    # the reader's play_one_step steps its own env, made and reset the same way
    answers = ctx.call_seeds(
        definitions[-1],
        [[([("__shared_env__", "CartPole-v1", seed), s, epsilons[i % len(epsilons)]], {})
          for i, s in enumerate(states)] for seed, (states, _, _) in zip(seeds(), episodes)],
        globals={"model": model_spec(model), "n_outputs": N_OUTPUTS,
                 "replay_buffer": ("__deque__", [], REPLAY_BUFFER_SIZE)},
        collect=["replay_buffer"])
    for seed, (_, ours, buffer), answer in zip(seeds(), episodes, answers):
        theirs = [tuple(result[:4]) if isinstance(result, (tuple, list)) else result
                  for result in answer["results"]]
        diff = compare(ours, theirs, where=f"seed {seed}, returned")
        if diff.ok:
            diff = compare(buffer, [list(e) if isinstance(e, (tuple, list)) else e
                                    for e in answer["collected"]["replay_buffer"]],
                           where=f"seed {seed}, replay_buffer")
        if not diff.ok:
            break
    if diff.ok:
        return CheckResult(name, PASS, diff.max_abs_diff)
    hint = ""
    if "replay_buffer" in diff.where and diff.problem == "wrong length":
        hint = "append (state, action, reward, next_state, done, truncated) to replay_buffer"
    return failure(name, diff, hint)


DUELING_FORMULA = ("advantages", "Q_values")
"""the names the dueling network's formula lines assign, in its builder and in the notebook"""


def _dueling_formula(state_values, raw_advantages, *mutations):
    """Our dueling builder's formula lines (mutated), run on the given tensors: ``Q_values``."""
    code = assignments(build_dueling_q_network, DUELING_FORMULA, *mutations)
    namespace = {"tf": tf, "state_values": tf.constant(state_values),
                 "raw_advantages": tf.constant(raw_advantages)}
    exec(code, namespace)
    return namespace["Q_values"].numpy()


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
    ours = _dueling_formula(state_values, raw_advantages)
    theirs = ctx.worker.request(ctx.timeout, op="snippet", code=code, result="Q_values",
                                variables={"state_values": ("__tensor__", state_values),
                                           "raw_advantages": ("__tensor__", raw_advantages)})
    return compare_result(name, ours, theirs, [
        (hints.DUELING_MEAN, _dueling_formula(state_values, raw_advantages,
                                              hints.DUELING_MEAN_MUTATION)),
        (hints.DUELING_NOT_SUBTRACTED, _dueling_formula(state_values, raw_advantages,
                                                        hints.DUELING_NOT_SUBTRACTED_MUTATION)),
        (hints.DUELING_MAX_OVER_BATCH.hint, _dueling_formula(
            state_values, raw_advantages, hints.DUELING_MAX_OVER_BATCH.mutation)),
    ])
