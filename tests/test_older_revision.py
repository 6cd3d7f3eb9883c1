"""The older revision of the notebook's DQN and policy-gradient cells, as presets.

That revision's cells printed no outputs, so our runs of them are the reference. Where the
pinned numbers came from, on the reference stack (requirements.txt, CPU), seed 42:
- our ``train_dqn(variant, revision="older")`` (fast engine) for the full 600-episode lists;
- the older revision's cells themselves, run in a scratch folder outside the repo with the old
  gym API given by a small shim over Gymnasium (``env.seed(s)`` making the next ``reset`` a
  ``reset(seed=s)``, ``step`` returning ``done = terminated or truncated``), ``tf.random.set_seed``
  read as ``tf.keras.utils.set_random_seed``, ``predict(verbose=0)``: they gave the same first
  70 episodes for each DQN variant and the same first 5 policy-gradient iterations (and weights).
On the current stack (3.12, TF 2.21 + tf_keras, NumPy 2) our runs give the same lists.
"""

import numpy as np
import pytest

from homl_rl.cli import main
from homl_rl.dqn import (
    DQN, DQNConfig, OLDER_REVISION, dqn_config, make_agent, revision_settings, train_dqn)
from homl_rl.environments import SeedNextReset, make_env
from homl_rl.keras_choices import make_loss_fn, make_optimizer
from homl_rl.io import read_json
from homl_rl.policy_gradients import (
    PolicyGradientsConfig, policy_gradients_config, train_lander, train_policy_gradients)
from homl_rl.tf_setup import tf

PINNED_PG = [18.5, 33.0, 28.1, 27.7, 26.4]
"""Mean rewards of the first 5 iterations of the older CartPole cell (its cells in a scratch
folder; our notebook engine gives the same)."""

PINNED_LANDER_FIRST_ITERATION = -219.10426575611567
"""The older lander's first iteration (our fast engine, reference stack)."""


def run(variant, n_episodes, **kwargs):
    return train_dqn(variant, n_episodes, progress=False, revision="older", **kwargs)[0].last_steps


# --- what the preset changes ------------------------------------------------------------

def test_the_older_revision_settings_per_variant():
    assert revision_settings("dqn", "current") == {}
    assert dqn_config("double_dqn", 600, "older") == DQNConfig(
        optimizer="adam", learning_rate=6e-3, loss="huber", training_starts_after=49,
        revision="older")
    assert dqn_config("dueling_double_dqn", revision="older").learning_rate == 7.5e-3
    assert dqn_config("dqn", revision="older").training_starts_after == 50  # `episode > 50`
    assert dqn_config("dqn", revision="older", learning_rate=1e-3).learning_rate == 1e-3
    assert set(OLDER_REVISION) == {"dqn", "double_dqn", "dueling_double_dqn"}


def test_a_variant_or_revision_the_older_cells_do_not_have_is_a_clear_error():
    with pytest.raises(ValueError, match="the older revision has no 'fixed_q_targets' variant"):
        train_dqn("fixed_q_targets", 1, revision="older", progress=False)
    with pytest.raises(ValueError, match="revision must be one of 'current', 'older', got 'v2'"):
        train_dqn("dqn", 1, revision="v2", progress=False)
    with pytest.raises(ValueError, match="revision='older' is for the chapter's variants"):
        train_dqn("keras_rl_dqn", 1, revision="older", progress=False)
    with pytest.raises(ValueError, match="five-field experiences go in a deque"):
        DQNConfig(revision="older", replay_buffer="numpy")


@pytest.mark.parametrize("field, value, message", [
    ("optimizer", "adamm", r"optimizer must be one of .*'adam'.*'nadam'.*got 'adamm'"),
    ("optimizer", None, r"optimizer must be one of .*got None"),
    ("loss", "mae", r"loss must be one of 'huber', 'mse', got 'mae'"),
])
def test_optimizer_and_loss_are_checked_by_name(field, value, message):
    with pytest.raises(ValueError, match=message):
        DQNConfig(**{field: value})
    if field == "optimizer":
        with pytest.raises(ValueError, match=message):
            PolicyGradientsConfig(optimizer=value)


def test_names_make_the_cells_keras_objects():
    assert type(make_optimizer("Adam", 6e-3)).__name__ == "Adam"
    assert make_loss_fn("mse") is tf.keras.losses.mean_squared_error
    assert isinstance(make_loss_fn("huber"), tf.keras.losses.Huber)


def test_make_agent_builds_the_older_cells_objects():
    env = SeedNextReset(make_env("CartPole-v1", render_mode=None))
    agent = make_agent("double_dqn", env, dqn_config("double_dqn", revision="older"))
    assert type(agent.optimizer).__name__ == "Adam"
    assert float(agent.optimizer.learning_rate) == pytest.approx(6e-3)
    assert isinstance(agent.loss_fn, tf.keras.losses.Huber)
    assert agent.five_field_experiences
    with pytest.raises(ValueError, match="pass SeedNextReset"):
        make_agent("dqn", make_env("CartPole-v1", render_mode=None),
                   dqn_config("dqn", revision="older"))


# --- the old gym API's seeding and five-field experiences -------------------------------

def test_seed_next_reset_is_the_old_env_seed():
    old = SeedNextReset(make_env("CartPole-v1", render_mode=None))
    new = make_env("CartPole-v1", render_mode=None)
    old.seed(42)
    first = [old.reset()[0], old.reset()[0]]  # env.seed(42); env.reset(); env.reset()
    expected = [new.reset(seed=42)[0], new.reset()[0]]
    np.testing.assert_array_equal(first, expected)
    np.testing.assert_array_equal(old.reset(seed=7)[0], new.reset(seed=7)[0])  # an explicit seed wins
    with pytest.raises(ValueError, match="seed must be a non-negative integer"):
        old.seed(-1)


class OneStepEnv:
    """Steps once to ``next_state``; ``truncated`` as given."""
    def __init__(self, truncated):
        self.truncated = truncated

    def step(self, action):
        return np.full(4, 2.0, np.float32), 1.0, False, self.truncated, {}


def test_five_field_experiences_keep_the_old_apis_done_and_train_on_it():
    model = tf.keras.Sequential([tf.keras.layers.Dense(2, input_shape=[4],
                                                       kernel_initializer="zeros")])
    agent = DQN(model=model, optimizer=tf.keras.optimizers.SGD(0.0),
                five_field_experiences=True)
    state = np.zeros(4, np.float32)
    agent.play_one_step(OneStepEnv(truncated=True), state, epsilon=0)
    agent.play_one_step(OneStepEnv(truncated=False), state, epsilon=0)
    assert [len(experience) for experience in agent.replay_buffer] == [5, 5]
    assert [experience[4] for experience in agent.replay_buffer] == [True, False]
    experiences = agent.sample_experiences(4)
    assert len(experiences) == 5
    agent.training_step(4)  # unpacks five arrays: runs = 1 - dones


# --- the pinned runs ---------------------------------------------------------------------

def _pins():
    return read_json(__file__.replace(".py", "_pins.json"))


@pytest.mark.parametrize("variant", ["dqn", "double_dqn", "dueling_double_dqn"])
def test_first_60_older_episodes_are_the_pinned_ones(variant):
    """Ten training steps or so (the older cells train from episode 50 or 51)."""
    assert run(variant, 60) == _pins()[variant][:60]


def test_the_older_policy_gradients_first_iteration_is_the_pinned_one():
    mean_rewards, model = train_policy_gradients(1, revision="older", progress=False)
    assert mean_rewards == PINNED_PG[:1]
    assert [layer.activation.__name__ for layer in model.layers] == ["elu", "sigmoid"]


def test_the_older_lander_first_iteration_is_the_pinned_one():
    mean_rewards, model = train_lander(1, revision="older", progress=False)
    assert mean_rewards == [PINNED_LANDER_FIRST_ITERATION]


def test_the_fast_engine_refuses_the_older_elu_net():
    with pytest.raises(ValueError, match="the fast engine replays ReLU policy nets"):
        train_policy_gradients(1, revision="older", engine="fast", progress=False)
    assert policy_gradients_config(revision="older").optimizer == "adam"
    assert policy_gradients_config("LunarLander-v3", "older").optimizer == "nadam"


@pytest.mark.slow
@pytest.mark.parametrize("variant", ["dqn", "double_dqn", "dueling_double_dqn"])
def test_full_600_older_episodes_are_the_pinned_ones(variant):
    assert run(variant, 600) == _pins()[variant]


@pytest.mark.slow
@pytest.mark.parametrize("variant", ["dqn", "double_dqn", "dueling_double_dqn"])
def test_the_notebook_engine_gives_the_older_cells_first_episodes(variant):
    assert run(variant, 60, engine="notebook") == _pins()[variant][:60]


@pytest.mark.slow
def test_the_older_policy_gradients_first_5_iterations_are_the_cells():
    assert train_policy_gradients(5, revision="older", progress=False)[0] == PINNED_PG


# --- the command line --------------------------------------------------------------------

def test_the_dqn_command_runs_the_older_preset_and_writes_its_rewards(tmp_path, capsys):
    out = tmp_path / "run.json"
    assert main(["dqn", "--variant", "double_dqn", "--revision", "older", "--episodes", "5",
                 "--out", str(out), "--quiet"]) == 0
    saved = read_json(out)
    assert saved["rewards"] == _pins()["double_dqn"][:5]
    assert saved["config"]["optimizer"] == "adam" and saved["config"]["loss"] == "huber"
    assert "double_dqn, older revision, seed 42: 5 episodes" in capsys.readouterr().out


def test_the_dqn_command_says_what_is_wrong_in_one_line(capsys):
    with pytest.raises(SystemExit) as exit_info:  # when the command line builds the config
        main(["dqn", "--variant", "fixed_q_targets", "--revision", "older", "--quiet"])
    assert exit_info.value.code == 2
    assert "error: the older revision has no 'fixed_q_targets' variant" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        main(["dqn", "--loss", "mae"])
    assert exit_info.value.code == 2
