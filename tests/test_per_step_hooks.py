"""The hooks of the one per-step loop (homl_rl.per_step_dqn.train_per_step): each does what
its name says; the behaviour they reproduce stays pinned by test_per_step_dqn.py,
test_lecture_dqn.py and test_keras_rl.py."""

from dataclasses import replace
from types import SimpleNamespace

import gymnasium as gym
import numpy as np
import pytest

from homl_rl import keras_rl, per_step_dqn
from homl_rl.keras_rl import DQNAgent, EpsGreedyQPolicy, SequentialMemory
from homl_rl.per_step_dqn import (
    STEP_ORDERS, PerStepDQN, PerStepDQNConfig, train_per_step)
from homl_rl.seeding import set_seeds
from homl_rl.tf_setup import tf

pytestmark = pytest.mark.filterwarnings("ignore:Not enough entries to sample without replacement")

TINY = PerStepDQNConfig(hidden_layers=(), batch_size=2, warmup_steps=0, loss="mse",
                        optimizer="sgd", learning_rate=0.1)


class FixedLengthEnv(gym.Env):
    """Episodes of exactly ``length`` steps (cut by a time limit); reward 1."""

    def __init__(self, length=3):
        self.length = length
        self.action_space = gym.spaces.Discrete(2)
        self.observation_space = gym.spaces.Box(-np.inf, np.inf, (4,), np.float32)

    def reset(self, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        return np.zeros(4, np.float32), {}

    def step(self, action):
        self.t += 1
        return np.full(4, self.t, np.float32), 1.0, False, self.t >= self.length, {}


def agent_of(config=TINY):
    set_seeds(0)
    return PerStepDQN(config, n_actions=2, input_shape=(4,))


# --- the loop calls the agent's hooks -----------------------------------------------------------

class RecordingAgent:
    """Anything with a config and the loop's hooks can be trained by train_per_step."""

    def __init__(self):
        self.config = PerStepDQNConfig()
        self.calls = []

    def choose_action(self, state, step, episode):
        self.calls.append(("choose_action", step, episode))
        return 0

    def observe(self, state, action, reward, next_state, terminated, truncated=False):
        self.calls.append(("observe", float(next_state[0])))

    def train_after_step(self, step):
        self.calls.append(("train_after_step", step))
        return [(0.5, 0.0, 0.0)]

    def at_episode_end(self, episode, state, steps, finished):
        self.calls.append(("at_episode_end", episode, float(state[0]), steps, finished))


def test_the_loop_calls_the_agents_hooks_in_order_and_says_whether_an_episode_finished():
    agent = RecordingAgent()
    history = train_per_step(agent, FixedLengthEnv(3), n_steps=5, progress=False)
    step_calls = [[("choose_action", t, t // 3), ("observe", float(t % 3 + 1)),
                   ("train_after_step", t)] for t in range(5)]
    assert agent.calls == [*step_calls[0], *step_calls[1], *step_calls[2],
                           ("at_episode_end", 0, 3.0, 3, True),  # ended (time limit)
                           *step_calls[3], *step_calls[4],
                           ("at_episode_end", 1, 2.0, 5, False)]  # cut by n_steps
    assert history.losses == [0.5] * 5 and history.episode_lengths == [3, 2]


# --- PerStepDQN's hooks ------------------------------------------------------------------------------

def test_choose_action_is_random_for_the_random_steps_then_epsilon_greedy():
    agent = agent_of(replace(TINY, random_steps=2, epsilon_start=0.0, epsilon_end=0.0))
    state = np.ones(4, np.float32)
    greedy = agent.greedy_action(state)
    np.random.seed(3)
    expected = [int(np.random.randint(0, 2)) for _ in range(2)]
    np.random.seed(3)
    assert [agent.choose_action(state, step, 0) for step in range(2)] == expected
    assert all(agent.choose_action(state, step, 0) == greedy for step in range(2, 6))


@pytest.mark.parametrize("finished", [True, False])
def test_at_episode_end_is_the_hard_copy_by_episodes_ended_or_cut(finished):
    agent = agent_of(replace(TINY, target_update="episodes", target_update_period=2))
    copies = []
    agent.update_target = lambda: copies.append(True)
    for episode in range(4):
        agent.at_episode_end(episode, np.zeros(4), steps=10 * episode, finished=finished)
    assert len(copies) == 2  # after the episodes of 0-based index 0 and 2


# --- the step orders: when it trains and when the target is copied ----------------------------------

def fake_agent(buffer_length=0, **changes):
    return SimpleNamespace(config=replace(TINY, **changes), replay_buffer=[None] * buffer_length)


@pytest.mark.parametrize("name, trains, copies", [
    ("keras_rl2", [4, 6], [0, 3, 6]),  # t > 3 and t % 2 == 0; t % 3 == 0
    ("sb3", [3, 5], [2, 5]),           # n = t + 1 > 3 and n % 2 == 0; n % 3 == 0
])
def test_the_step_orders_say_when_to_train_and_copy_after_a_step(name, trains, copies):
    order = STEP_ORDERS[name]
    agent = fake_agent(warmup_steps=3, train_interval=2, target_update_period=3)
    assert [t for t in range(7) if order.trains_after_step(agent, t)] == trains
    assert [t for t in range(7) if order.copies_target_after_step(agent, t)] == copies
    assert order.copies_before_training is (name == "sb3")
    soft = fake_agent(target_update="soft")
    assert not any(order.copies_target_after_step(soft, t) for t in range(7))


def test_lecture_003s_order_trains_once_the_buffer_holds_a_batch():
    order = STEP_ORDERS["lecture_003"]
    assert not order.trains_after_step(fake_agent(buffer_length=1, batch_size=2), 100)
    assert order.trains_after_step(fake_agent(buffer_length=2, batch_size=2), 0)


@pytest.mark.parametrize("name, copies", [("keras_rl2", [0, 2, 4]), ("sb3", [0, 2, 4]),
                                          ("lecture_003", [1, 3])])
def test_the_step_orders_say_when_to_copy_after_an_episode(name, copies):
    agent = fake_agent(target_update="episodes", target_update_period=2)
    order = STEP_ORDERS[name]
    assert [e for e in range(5) if order.copies_target_after_episode(agent, e)] == copies
    by_steps = fake_agent(target_update="steps", target_update_period=2)
    assert not any(order.copies_target_after_episode(by_steps, e) for e in range(5))


# --- keras-rl2's DQNAgent: its fit is the loop with its hooks --------------------------------------

def make_dqn(**kwargs):
    set_seeds(0)
    model = tf.keras.Sequential([tf.keras.layers.Flatten(input_shape=(1, 4)),
                                 tf.keras.layers.Dense(2)])
    settings = dict(nb_steps_warmup=1000, target_model_update=1e-2, policy=EpsGreedyQPolicy())
    settings.update(kwargs)
    dqn = DQNAgent(model=model, nb_actions=2, memory=SequentialMemory(100), **settings)
    dqn.compile(tf.keras.optimizers.Adam(1e-3), metrics=["mae"])
    return dqn


def test_fit_runs_through_train_per_step(monkeypatch):
    runs = []

    def spy(agent, env, **kwargs):
        runs.append(agent)
        return per_step_dqn.train_per_step(agent, env, **kwargs)

    monkeypatch.setattr(keras_rl, "train_per_step", spy)
    dqn = make_dqn()
    history = dqn.fit(FixedLengthEnv(3), nb_steps=7, verbose=0)
    assert runs == [dqn]
    # two episodes ended; the third, cut by nb_steps, is not logged (keras-rl2)
    assert history.history == {"episode_reward": [3.0, 3.0], "nb_episode_steps": [3, 3],
                                "nb_steps": [3, 6]}
    assert dqn.step == 7
    # one row per step, plus one per ended episode (keras-rl2's extra step)
    assert len(dqn.memory) == 7 + 2


def test_keras_rl2s_episode_end_stores_a_row_and_trains_only_after_an_ended_episode():
    dqn = make_dqn(nb_steps_warmup=0)
    dqn.training = True
    for t in range(3):
        dqn.choose_action(np.zeros(4, np.float32), t, 0)
        dqn.observe(np.zeros(4), dqn.recent_action, 1.0, np.ones(4), False, False)
    rows, trained = len(dqn.memory), dqn.core.training_steps
    dqn.at_episode_end(0, np.ones(4, np.float32), steps=3, finished=False)
    assert (len(dqn.memory), dqn.core.training_steps, dqn.step) == (rows, trained, 3)
    dqn.at_episode_end(0, np.ones(4, np.float32), steps=3, finished=True)
    assert (len(dqn.memory), dqn.core.training_steps) == (rows + 1, trained + 1)
    assert dqn.memory.terminals[rows] == False  # noqa: E712 (backward(0., terminal=False))
    assert dqn.memory.rewards[rows] == 0.0


def test_choose_action_is_forward_at_the_step_the_policy_reads():
    dqn = make_dqn()
    dqn.training = True
    steps_seen = []
    dqn.policy.select_action = lambda q_values: steps_seen.append(dqn.step) or 1
    assert dqn.choose_action(np.zeros(4, np.float32), 41, 2) == 1
    assert steps_seen == [41] and dqn.recent_action == 1


def test_keras_rl2s_stepping_repeats_actions_and_ends_after_nb_max_episode_steps():
    dqn = make_dqn()
    env = keras_rl._KerasRL2Stepping(dqn, FixedLengthEnv(10), action_repetition=2,
                                     visualize=False, nb_max_episode_steps=3)
    env.reset()
    steps = [env.step(0) for _ in range(3)]
    assert [(float(o[0]), r, terminated) for o, r, terminated, _, _ in steps] == [
        (2.0, 2.0, False), (4.0, 2.0, False), (6.0, 2.0, True)]


# --- Breakout: its training is the loop with BreakoutSteps' hooks ---------------------------------

class _Calls:
    """Records the calls made to it, in order, into a shared list."""

    def __init__(self, calls, name, **returns):
        self._calls, self._name, self._returns = calls, name, returns

    def __getattr__(self, method):
        def call(*args, **kwargs):
            self._calls.append(f"{self._name}.{method}")
            return self._returns.get(method)
        return call


def breakout_steps(calls, **changes):
    from homl_rl.breakout import BreakoutConfig, BreakoutSteps, TrainingState
    config = replace(BreakoutConfig(training_starts=0, train_period=1, target_update_period=2,
                                    eval_interval=1000, checkpoint_interval=1000, n_steps=100,
                                    seed=7), **changes)
    batch = SimpleNamespace(states=0, actions=0, rewards=0, next_states=0, dones=0)
    obs = np.zeros((84, 84, 4), np.uint8)
    run = BreakoutSteps(config, _Calls(calls, "agent", training_step=0.5),
                        _Calls(calls, "env", reset=(obs + 1, {})), None,
                        _Calls(calls, "buffer", sample=batch), np.random.default_rng(0),
                        TrainingState(episode=1), obs, None, _Calls(calls, "log"), None,
                        _Calls(calls, "bar"))
    return run, obs


def test_breakout_starts_the_next_episode_before_the_training_step_of_an_ended_one():
    calls = []
    run, obs = breakout_steps(calls)
    run.observe(obs, 1, 3.0, obs, terminated=True)
    assert calls == ["buffer.add"] and run.state.step == 1
    calls.clear()
    assert run.train_after_step(0) == [(0.5,)]
    # the record and the seeded reset of the next episode, its frames, then the training step
    assert calls == ["bar.set_postfix", "log.scalars", "log.rate", "env.reset",
                     "buffer.start_episode", "buffer.sample", "agent.training_step"]
    assert run.state.episode_returns == [[1, 3.0]] and run.state.episode == 2
    assert (run.obs == 1).all() and (run.environment().reset()[0] == 1).all()
    run.at_episode_end(0, obs, 1, True)  # nothing more
    assert len(calls) == 7


def test_breakout_trains_and_copies_the_target_at_the_runs_step():
    calls = []
    run, obs = breakout_steps(calls, training_starts=4, train_period=2, target_update_period=3)
    trained, copied = [], []
    for _ in range(8):
        run.observe(obs, 0, 0.0, obs, terminated=False)
        calls.clear()
        trained.append(bool(run.train_after_step(None)))
        copied.append("agent.sync_target" in calls)
    # the run's step counts from 1 after the first step: trains at 4, 6, 8; copies at 3, 6
    assert [n for n, t in zip(range(1, 9), trained) if t] == [4, 6, 8]
    assert [n for n, c in zip(range(1, 9), copied) if c] == [3, 6]


def test_breakout_stops_the_loop_and_checkpoints_at_stop_at_step():
    calls = []
    run, obs = breakout_steps(calls)
    run.stop_at_step, run.ctrl_c = 2, SimpleNamespace(pressed=False)
    run.checkpoint = lambda: calls.append("checkpoint")
    run.state.step = 1
    assert run.after_step(run, 1, None) is False and "checkpoint" not in calls
    run.state.step = 2
    assert run.after_step(run, 2, None) is True and "checkpoint" in calls
    assert run.state.interrupted


def test_train_breakout_runs_through_train_per_step(monkeypatch, tmp_path):
    from homl_rl import breakout
    runs = []

    def spy(agent, env, **kwargs):
        runs.append((type(agent).__name__, kwargs["n_steps"]))
        return per_step_dqn.train_per_step(agent, env, **kwargs)

    monkeypatch.setattr(breakout, "train_per_step", spy)
    config = breakout.BreakoutConfig(n_steps=12, replay_capacity=50, batch_size=4,
                                     training_starts=8, eval_interval=1000, seed=7)
    state, agent, best = breakout.train_breakout(config, tmp_path, progress=False)
    assert runs == [("BreakoutSteps", 12)] and state.step == 12
    assert int(agent.optimizer.iterations.numpy()) == 2  # steps 8 and 12
