"""keras-rl2's DQNAgent API (homl_rl.keras_rl): its semantics, log lines and Histories, and
lecture 002's run (slow: the example script at seeds 0, 1, 2, pinned)."""

import contextlib
import io
import math
import re
import subprocess
import sys
from pathlib import Path

import gymnasium as gym
import numpy as np
import pytest

from homl_rl.keras_rl import (
    DQNAgent, EpsGreedyQPolicy, GreedyQPolicy, LectureCartPoleConfig, SequentialMemory,
    episode_line, lecture_cartpole)
from homl_rl.seeding import set_seeds
from homl_rl.tf_setup import tf

ROOT = Path(__file__).resolve().parents[1]

pytestmark = pytest.mark.filterwarnings("ignore:Not enough entries to sample without replacement")


class FixedLengthEnv(gym.Env):
    """Episodes of exactly ``length`` steps; observation ``(t, action, 0, 0)``; reward 1."""

    def __init__(self, length=5):
        self.length = length
        self.action_space = gym.spaces.Discrete(2)
        self.observation_space = gym.spaces.Box(-np.inf, np.inf, (4,), np.float32)
        self.actions = []

    def reset(self, seed=None, options=None):
        super().reset(seed=seed)
        self.t = 0
        return np.zeros(4, np.float32), {}

    def step(self, action):
        self.t += 1
        self.actions.append(int(action))
        return (np.array([self.t, action, 0, 0], np.float32), 1.0, False,
                self.t >= self.length, {})


def lecture_model(window_length=1, nb_actions=2):
    return tf.keras.Sequential([
        tf.keras.layers.Flatten(input_shape=(window_length, 4)),
        tf.keras.layers.Dense(8, activation="relu"),
        tf.keras.layers.Dense(nb_actions)])


def make_dqn(seed=0, window_length=1, **kwargs):
    set_seeds(seed)
    settings = dict(nb_steps_warmup=10, target_model_update=1e-2, policy=EpsGreedyQPolicy())
    settings.update(kwargs)
    dqn = DQNAgent(model=lecture_model(window_length), nb_actions=2,
                   memory=SequentialMemory(limit=1000, window_length=window_length), **settings)
    dqn.compile(tf.keras.optimizers.Adam(learning_rate=1e-3), metrics=["mae"])
    return dqn


def quietly(function, *args, **kwargs):
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        result = function(*args, **kwargs)
    return result, out.getvalue()


# --- target updates, warm-up, switches ------------------------------------------------------------

def test_target_model_update_below_one_is_soft_and_from_one_a_hard_copy_every_n_steps():
    soft = make_dqn(target_model_update=1e-2).core.config
    assert (soft.target_update, soft.tau) == ("soft", 1e-2)
    hard = make_dqn(target_model_update=250.7).core.config
    assert (hard.target_update, hard.target_update_period) == ("steps", 250)
    with pytest.raises(ValueError, match="target_model_update must be a positive number, got -1"):
        make_dqn(target_model_update=-1)


def test_the_soft_update_blends_in_the_online_weights_of_before_the_training_step():
    """keras-rl2's soft update runs in its TF1 graph beside Adam's update, which its reads of the
    online weights do not wait for: the target moves toward the weights the step started from."""
    dqn = make_dqn(target_model_update=0.25, nb_steps_warmup=1000)  # fit stores, never trains
    quietly(dqn.fit, FixedLengthEnv(5), nb_steps=20, verbose=0)
    dqn.target_model.set_weights([0.5 * weight for weight in dqn.model.get_weights()])
    online, target = dqn.model.get_weights(), dqn.target_model.get_weights()
    dqn.core.train()
    updated = dqn.model.get_weights()
    assert not np.allclose(updated[0], online[0])  # the step moved the online weights
    for new, old, weight in zip(dqn.target_model.get_weights(), target, online):
        np.testing.assert_allclose(new, 0.75 * old + 0.25 * weight, rtol=1e-6, atol=1e-7)
    assert not np.allclose(dqn.target_model.get_weights()[0], 0.75 * target[0] + 0.25 * updated[0])
    assert dqn.core.config.soft_update_weights == "previous"


def test_hard_copy_every_n_steps_during_fit():
    dqn = make_dqn(target_model_update=4, nb_steps_warmup=1000)  # no training: the copy shows
    copies = []
    original = dqn.core.update_target
    dqn.core.update_target = lambda: copies.append(dqn.step) or original()
    quietly(dqn.fit, FixedLengthEnv(5), nb_steps=10, verbose=0)
    # steps 0..9, plus keras-rl2's extra backward after each 5-step episode (at step 5 and 10)
    assert copies == [0, 4, 8]


def test_no_training_before_the_warm_up_and_one_extra_step_per_episode():
    dqn = make_dqn(nb_steps_warmup=10)
    weights = dqn.model.get_weights()
    history, _ = quietly(dqn.fit, FixedLengthEnv(5), nb_steps=10, verbose=0)
    assert dqn.core.training_steps == 0
    for before, after in zip(weights, dqn.model.get_weights()):
        np.testing.assert_array_equal(before, after)
    dqn = make_dqn(nb_steps_warmup=10)
    quietly(dqn.fit, FixedLengthEnv(5), nb_steps=20, verbose=0)
    # steps 11..19 train (9), and the episode-end backward calls at steps 15 and 20 (2)
    assert dqn.core.training_steps == 11


def test_train_interval():
    dqn = make_dqn(nb_steps_warmup=2, train_interval=4)
    quietly(dqn.fit, FixedLengthEnv(100), nb_steps=20, verbose=0)
    assert dqn.core.training_steps == 4  # steps 4, 8, 12, 16


def test_double_and_dueling_switches():
    dqn = make_dqn()
    assert dqn.core.config.double is False  # keras-rl2 1.0.4/1.0.5's default
    assert dqn.core.config.loss == "huber" and math.isinf(dqn.core.config.huber_delta)
    assert make_dqn(enable_double_dqn=True).core.config.double is True
    dueling = make_dqn(enable_dueling_network=True)
    assert dueling.core.config.dueling is True
    assert isinstance(dueling.model.layers[-1], tf.keras.layers.Lambda)
    assert dueling.model.layers[-2].units == 3  # V and one advantage per action
    assert dueling.model.output.shape[-1] == 2
    with pytest.raises(ValueError, match="dueling_type must be 'avg'"):
        make_dqn(enable_dueling_network=True, dueling_type="max")


# --- the memory ------------------------------------------------------------------------------------

def fill_memory(memory, episodes=((1, 2, 3), (10, 11))):
    """Rows as fit stores them: each step, then the extra (final observation, terminal=False)."""
    for observations in episodes:
        for index, value in enumerate(observations):
            last = index == len(observations) - 1
            memory.append(np.full(4, value, np.float32), index % 2, 1.0, last)
        memory.append(np.full(4, 99 + observations[-1], np.float32), 0, 0.0, False)


def test_window_length_stacks_an_episodes_observations_zero_padded():
    memory = SequentialMemory(100, window_length=3)
    fill_memory(memory, [(1, 2, 3), (10, 11, 12)])  # rows: 1 2 3(end) 102 10 11 12(end) 111
    experiences = memory.get([5, 6, 7])  # experience idx: row idx - 1, then row idx
    np.testing.assert_array_equal(experiences.states[:, :, 0], [[0, 0, 10], [0, 10, 11], [10, 11, 12]])
    np.testing.assert_array_equal(experiences.next_states[:, :, 0],
                                  [[0, 10, 11], [10, 11, 12], [11, 12, 111]])
    np.testing.assert_array_equal(experiences.dones, [0, 0, 1])
    assert experiences.states.shape == (3, 3, 4)
    # acting: the state of a new episode's first observation holds nothing of the last one
    np.testing.assert_array_equal(memory.get_recent_state(np.full(4, 7.0))[:, 0], [0, 0, 7])
    memory.append(np.full(4, 7.0), 0, 1.0, False)
    np.testing.assert_array_equal(memory.get_recent_state(np.full(4, 8.0))[:, 0], [0, 7, 8])


def test_a_state_that_starts_after_an_episode_end_is_never_drawn():
    memory = SequentialMemory(100, window_length=1)
    fill_memory(memory, [(1, 2, 3), (10, 11, 12), (20, 21, 22)])
    set_seeds(0, tensorflow=False)
    drawn = set()
    for _ in range(200):
        drawn |= set(memory.sample(4).states[:, 0, 0])
    assert drawn == {2, 3, 10, 11, 12, 20, 21, 22}  # not row 0, nor the rows after an end (102, 111, 121)


def test_sampling_is_without_replacement_once_there_is_enough_and_warns_before():
    memory = SequentialMemory(100)
    fill_memory(memory, [tuple(range(1, 41))])
    set_seeds(0, tensorflow=False)
    for _ in range(10):
        states = memory.sample(38).states[:, 0, 0]
        assert len(set(states)) == 38
    small = SequentialMemory(100)
    fill_memory(small, [(1, 2, 3, 4)])
    with pytest.warns(UserWarning, match="Not enough entries to sample without replacement"):
        assert len(small.sample(8).states) == 8
    with pytest.raises(ValueError, match="needs at least window_length \\+ 2"):
        SequentialMemory(10).sample(1)


# --- policies, test(), Histories, logs ----------------------------------------------------------------

def test_policies():
    assert GreedyQPolicy().select_action(np.array([0.1, 0.5, 0.2])) == 1
    assert EpsGreedyQPolicy(eps=0).select_action(np.array([3.0, 1.0])) == 0
    set_seeds(0, tensorflow=False)
    actions = {EpsGreedyQPolicy(eps=1).select_action(np.array([3.0, 1.0, 0.0])) for _ in range(50)}
    assert actions == {0, 1, 2}
    with pytest.raises(ValueError, match=r"eps must be in \[0, 1\], got 2"):
        EpsGreedyQPolicy(eps=2)


def test_test_is_greedy_and_histories_have_keras_rl2s_keys():
    dqn = make_dqn(policy=EpsGreedyQPolicy(eps=1.0))  # fit explores only
    env = FixedLengthEnv(6)
    history, _ = quietly(dqn.fit, env, nb_steps=12, verbose=0)
    assert isinstance(history, tf.keras.callbacks.History)
    assert history.history == {"episode_reward": [6.0, 6.0], "nb_episode_steps": [6, 6],
                               "nb_steps": [6, 12]}
    env.actions.clear()
    tested, out = quietly(dqn.test, env, nb_episodes=2, visualize=False)
    assert tested.history == {"episode_reward": [6.0, 6.0], "nb_steps": [6, 6]}
    assert out.splitlines() == ["Testing for 2 episodes ...", "Episode 1: reward: 6.000, steps: 6",
                                "Episode 2: reward: 6.000, steps: 6"]
    env.reset()
    greedy = []
    for observation_t in range(6):  # the same observations the test episodes saw
        action = env.actions[observation_t]
        q_values = dqn.core.q_values(dqn.memory.get_recent_state(
            np.zeros(4, np.float32) if observation_t == 0
            else np.array([observation_t, env.actions[observation_t - 1], 0, 0], np.float32))[None])
        greedy.append(int(np.argmax(q_values)) == action)
    assert all(greedy)


def test_the_verbose_2_line_is_keras_rl2s():
    """keras-rl2's first line of lecture 002's fit, rebuilt from its numbers."""
    metrics = [[0.470474, 0.588689, -0.165078]] * 12
    line = episode_line(12, 5000, 0, 0.519, [1.0] * 12, [1] * 11 + [0], ["loss", "mae", "mean_q"],
                        metrics)
    assert line == ("   12/5000: episode: 1, duration: 0.519s, episode steps:  12, steps per "
                    "second:  23, episode reward: 12.000, mean reward:  1.000 [ 1.000,  1.000], "
                    "mean action: 0.917 [0.000, 1.000],  loss: 0.470474, mae: 0.588689, "
                    "mean_q: -0.165078")
    nan_line = episode_line(8, 5000, 0, 0.1, [1.0] * 8, [0] * 8, ["loss", "mae", "mean_q"],
                            [[math.nan] * 3] * 8)
    assert nan_line.endswith("mean action: 0.000 [0.000, 0.000],  loss: --, mae: --, mean_q: --")


def test_fit_verbose_2_prints_a_line_per_episode():
    dqn = make_dqn(nb_steps_warmup=6)
    _, out = quietly(dqn.fit, FixedLengthEnv(5), nb_steps=10, verbose=2)
    lines = out.splitlines()
    assert lines[0] == "Training for 10 steps ..."
    assert re.fullmatch(r" 5/10: episode: 1, duration: \d+\.\d{3}s, episode steps:   5, steps per "
                        r"second: +\d+, episode reward:  5\.000, mean reward:  1\.000 \[ 1\.000,  "
                        r"1\.000\], mean action: \d\.\d{3} \[\d\.\d{3}, \d\.\d{3}\],  loss: --, "
                        r"mae: --, mean_q: --", lines[1])
    assert re.fullmatch(r"10/10: episode: 2, .*loss: \d+\.\d{6}, mae: \d+\.\d{6}, "
                        r"mean_q: -?\d+\.\d{6}", lines[2])
    assert re.fullmatch(r"done, took \d+\.\d{3} seconds", lines[3])


def test_fit_verbose_1_prints_interval_summaries():
    dqn = make_dqn(nb_steps_warmup=3)
    _, out = quietly(dqn.fit, FixedLengthEnv(5), nb_steps=10, verbose=1, log_interval=5)
    lines = [line for line in out.splitlines() if line]
    assert lines[:2] == ["Training for 10 steps ...", "Interval 1 (0 steps performed)"]
    assert lines[2] == "1 episodes - episode_reward: 5.000 [5.000, 5.000] - loss: " + lines[2].split(
        "loss: ")[1]
    assert lines[3] == "Interval 2 (5 steps performed)"


@pytest.mark.parametrize("call, error, message", [
    (lambda dqn: dqn.fit(FixedLengthEnv(), nb_steps=0), ValueError, "nb_steps must be a positive"),
    (lambda dqn: dqn.fit(FixedLengthEnv(), nb_steps=5, verbose=3), ValueError, "verbose must be"),
    (lambda dqn: dqn.fit(FixedLengthEnv(), nb_steps=5, callbacks=[object()]), ValueError,
     "callbacks are not supported"),
    (lambda dqn: dqn.test(FixedLengthEnv(), nb_episodes=0), ValueError, "nb_episodes must be"),
    (lambda dqn: dqn.compile(tf.keras.optimizers.Adam(), metrics=["accuracy"]), ValueError,
     "metrics must be among 'mae'"),
    (lambda dqn: dqn.compile("adam"), ValueError, "optimizer must be a Keras optimizer"),
])
def test_bad_input_is_a_clear_error(call, error, message):
    with pytest.raises(error, match=message):
        call(make_dqn())


def test_a_model_with_the_wrong_output_or_an_uncompiled_agent_is_an_error():
    with pytest.raises(ValueError, match=r"expects one Q-value per action, \(None, 3\)"):
        DQNAgent(model=lecture_model(), nb_actions=3, memory=SequentialMemory(10))
    dqn = DQNAgent(model=lecture_model(), nb_actions=2, memory=SequentialMemory(10))
    with pytest.raises(RuntimeError, match="compile"):
        dqn.fit(FixedLengthEnv(), nb_steps=5)


def test_lecture_run_is_deterministic_at_a_seed():
    runs = [lecture_cartpole(LectureCartPoleConfig(seed=1, nb_steps=150)) for _ in range(2)]
    assert runs[0] == runs[1]
    assert set(runs[0]) == {"test_before", "fit", "test_after"}
    assert runs[0]["fit"]["nb_steps"][-1] <= 150 and len(runs[0]["test_after"]["episode_reward"]) == 5


# --- lecture 002's example, seeds 0, 1, 2 ---------------------------------------------------------

LECTURE_TEST_AFTER = {  # our runs of examples/keras_rl_cartpole.py; the same on both stacks
    "reference": {0: [139, 140, 137, 132, 140], 1: [170, 132, 159, 154, 136],
                  2: [179, 200, 200, 191, 171]},
    "current": {0: [139, 140, 137, 132, 140], 1: [170, 132, 159, 154, 136],
                2: [179, 200, 200, 191, 171]},
}
"""The five greedy test episodes after ``fit`` (our runs, reference stack (Python 3.11, TF
2.15.1) and current stack (3.12, TF 2.21 + tf_keras), seeds 0, 1, 2, with the soft update
blending in the online weights of before each training step, as keras-rl2's graph does). The
lecture's printout was 157, 140, 134, 200, 143 (mean 154.8); ours have means 137.6, 150.2 and
188.2. (With the soft update blending in the updated weights they were 147.2, 135.0 and 200.0:
a change that small moves a run's five test episodes by tens of steps.)"""


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_example_script_gives_the_pinned_test_episodes(seed):
    stack = "reference" if sys.version_info[:2] == (3, 11) else "current"
    out = subprocess.run([sys.executable, str(ROOT / "examples" / "keras_rl_cartpole.py"),
                          "--seed", str(seed)], capture_output=True, text=True, check=True,
                         cwd=ROOT).stdout
    rewards = [float(value) for value in re.findall(r"Episode \d: reward: ([\d.]+)", out)]
    assert len(rewards) == 10
    assert rewards[5:] == LECTURE_TEST_AFTER[stack][seed]
    assert len(re.findall(r"^ *\d+/5000: episode: ", out, re.M)) > 50
    # the package's run of the same cells gives the same numbers
    assert lecture_cartpole(LectureCartPoleConfig(seed=seed))["test_after"]["episode_reward"] == rewards[5:]
