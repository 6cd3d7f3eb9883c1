"""The per-step DQN core: its settings, target updates, warm-up, interval, Double/Dueling
targets, sampling, losses, determinism, and its rows in the variant table."""

import math
from dataclasses import replace

import numpy as np
import pytest

from homl_rl.dqn import agent_class, make_agent, train_dqn
from homl_rl.variants import CHAPTER_VARIANTS, VARIANTS
from homl_rl.environments import make_env
from homl_rl.history import TrainingHistory
from homl_rl.per_step_dqn import (
    KERAS_RL_CARTPOLE, PRESETS, RL_ZOO_CARTPOLE, PerStepDQN, PerStepDQNConfig, make_optimizer,
    make_per_step_agent, optimizer_names, train_per_step, train_per_step_dqn)
from homl_rl.replay_buffers import Experiences, NumpyReplayBuffer
from homl_rl.seeding import set_seeds

TINY = PerStepDQNConfig(hidden_layers=(), batch_size=2, warmup_steps=0, loss="mse",
                        optimizer="sgd", learning_rate=0.1, gamma=0.5)
"""A linear Q-network (``Q = s W + b``): every number below can be checked by hand."""


def linear_agent(config=TINY, n_actions=2, state_size=2):
    set_seeds(0)
    return PerStepDQN(config, n_actions=n_actions, input_shape=(state_size,))


def set_linear(model, kernel, bias):
    model.set_weights([np.array(kernel, np.float32), np.array(bias, np.float32)])


def batch(states, actions, rewards, next_states, dones, truncateds=None):
    n = len(actions)
    truncateds = np.zeros(n) if truncateds is None else truncateds
    return Experiences(np.array(states, np.float32), np.array(actions), np.array(rewards, float),
                       np.array(next_states, np.float32), np.array(dones, bool),
                       np.array(truncateds, bool))


def fill(agent, n):
    for step in range(n):
        state = np.array([step, 1.0], np.float32)
        agent.observe(state, step % 2, 1.0, state + 1, False, False)


# --- settings ---------------------------------------------------------------------------------

@pytest.mark.parametrize("changes, message", [
    ({"tau": 1.5}, r"tau must be in \(0, 1\], got 1.5"),
    ({"gamma": -0.1}, r"gamma must be in \[0, 1\], got -0.1"),
    ({"batch_size": 0}, "batch_size must be a positive integer, got 0"),
    ({"warmup_steps": -1}, "warmup_steps must be a non-negative integer, got -1"),
    ({"random_steps": -2}, "random_steps must be a non-negative integer, got -2"),
    ({"target_update": "sometimes"}, "target_update must be one of 'steps', 'episodes', 'soft'"),
    ({"soft_update_weights": "next"},
     "soft_update_weights must be one of 'updated', 'previous', got 'next'"),
    ({"loss": "mae"}, "loss must be one of 'huber', 'mse', got 'mae'"),
    ({"double": 1}, "double must be True or False, got 1"),
    ({"hidden_layers": (16, 0)}, "hidden_layers must be a positive integer, got 0"),
    ({"hidden_layers": 16}, "hidden_layers must be a tuple of positive integers, got 16"),
    ({"epsilon_schedule": "cosine"}, "epsilon_schedule must be one of"),
    ({"learning_rate": 0}, "learning_rate must be a positive number, got 0"),
    ({"gradient_steps": 0}, "gradient_steps must be a positive integer, got 0"),
    ({"max_grad_norm": 0.0}, "max_grad_norm must be a positive number, got 0.0"),
    ({"max_grad_norm": math.nan}, "max_grad_norm must be a positive number, got nan"),
    ({"step_order": "tf_agents"},
     "step_order must be one of 'keras_rl2', 'sb3', 'lecture_003', got 'tf_agents'"),
])
def test_bad_settings_are_clear_errors(changes, message):
    with pytest.raises(ValueError, match=message):
        PerStepDQNConfig(**changes)


def test_an_unknown_optimizer_lists_the_valid_names():
    with pytest.raises(ValueError, match=r"optimizer must be one of .*'adam'.*'sgd'.*got 'adamm'"):
        make_optimizer("adamm", 1e-3)
    assert {"adam", "nadam", "rmsprop", "sgd"} <= set(optimizer_names())
    optimizer = make_optimizer("RMSprop", 0.25)
    assert type(optimizer).__name__ == "RMSprop"
    assert float(optimizer.learning_rate) == 0.25


def test_an_unknown_optimizer_fails_when_the_agent_is_built():
    with pytest.raises(ValueError, match="optimizer must be one of"):
        linear_agent(PerStepDQNConfig(optimizer="adamm", hidden_layers=()))


def test_epsilon_schedules():
    assert PerStepDQNConfig().epsilon(12345) == 0.1
    linear = PerStepDQNConfig(epsilon_schedule="linear", epsilon_start=1.0, epsilon_end=0.1,
                              epsilon_decay=100)
    assert [linear.epsilon(step) for step in (0, 50, 100, 200)] == pytest.approx([1, 0.55, 0.1, 0.1])
    lecture = PerStepDQNConfig(epsilon_schedule="exponential", epsilon_start=1.0,
                               epsilon_end=0.05, epsilon_decay=200, epsilon_unit="episodes")
    assert lecture.epsilon(step=999, episode=200) == pytest.approx(0.05 + 0.95 * math.exp(-1))


# --- target computation -------------------------------------------------------------------------

def test_the_target_is_the_target_networks_max_and_an_end_does_not_bootstrap():
    agent = linear_agent()
    set_linear(agent.target, [[1, 0], [0, 2]], [0, 0])  # Q_target(s') = (s'_0, 2 s'_1)
    experiences = batch([[0, 0]] * 3, [0, 0, 0], [1, 1, 1], [[3, 1], [1, 3], [1, 3]],
                        [False, False, True])
    # 1 + 0.5 * max(3, 2); 1 + 0.5 * max(1, 6); ended: 1
    np.testing.assert_allclose(agent.td_targets(experiences), [2.5, 4.0, 1.0])


def test_double_dqn_lets_the_online_network_pick_the_next_action():
    agent = linear_agent(PerStepDQNConfig(**{**TINY.__dict__, "double": True}))
    set_linear(agent.target, [[1, 0], [0, 2]], [0, 0])   # target: Q(s') = (s'_0, 2 s'_1)
    set_linear(agent.model, [[0, 1], [1, 0]], [0, 0])     # online: Q(s') = (s'_1, s'_0)
    experiences = batch([[0, 0]] * 2, [0, 0], [1, 1], [[3, 1], [1, 3]], [False, False])
    # at (3, 1) online Q = (1, 3) picks 1, target's (3, 2)[1] = 2; at (1, 3) online Q = (3, 1)
    # picks 0, target's (1, 6)[0] = 1 (the target's own max would be 3 and 6)
    np.testing.assert_allclose(agent.td_targets(experiences), [1 + 0.5 * 2, 1 + 0.5 * 1])
    plain = linear_agent()
    plain.target.set_weights(agent.target.get_weights())
    np.testing.assert_allclose(plain.td_targets(experiences), [2.5, 4.0])


def test_a_truncation_bootstraps_unless_it_is_read_as_an_end():
    experiences = batch([[0, 0]], [0], [1], [[2, 0]], [False], [True])
    for truncation_is_terminal, expected in ((False, 1 + 0.5 * 2), (True, 1.0)):
        agent = linear_agent(PerStepDQNConfig(**{**TINY.__dict__,
                                                 "truncation_is_terminal": truncation_is_terminal}))
        set_linear(agent.target, [[1, 0], [0, 0]], [0, 0])
        agent.train_on(experiences)  # train_on reads the same ends
        np.testing.assert_allclose(agent.td_targets(experiences), [expected])


def test_the_dueling_head_is_value_plus_centred_advantages():
    agent = linear_agent(PerStepDQNConfig(**{**TINY.__dict__, "dueling": True,
                                             "hidden_layers": (2,), "activation": "linear"}),
                         n_actions=3)
    weights = agent.model.get_weights()  # hidden (2x2, 2), dropped Dense(3) is gone, head (2x4, 4)
    assert [w.shape for w in weights] == [(2, 2), (2,), (2, 4), (4,)]
    identity = [np.eye(2, dtype=np.float32), np.zeros(2, np.float32)]
    head = np.array([[1, 1, 0, 2], [0, 0, 3, 0]], np.float32)  # V = h0; A = (h0, 3 h1, 2 h0)
    agent.model.set_weights(identity + [head, np.zeros(4, np.float32)])
    q = agent.q_values([[1.0, 1.0]])[0]
    advantages = np.array([1, 3, 2])
    np.testing.assert_allclose(q, 1 + advantages - advantages.mean())


@pytest.mark.parametrize("loss, delta, expected", [
    ("huber", math.inf, 0.5 * (9 + 1) / 2),      # 0.5 * error ** 2, keras-rl2's delta_clip=inf
    ("huber", 1.0, ((3 - 0.5) + 0.5) / 2),       # linear past 1
    ("mse", 1.0, (9 + 1) / 2),
])
def test_the_losses(loss, delta, expected):
    agent = linear_agent(PerStepDQNConfig(**{**TINY.__dict__, "loss": loss, "huber_delta": delta,
                                             "gamma": 0.0}))
    set_linear(agent.model, np.zeros((2, 2)), [0, 0])  # Q = 0, so errors are the rewards
    loss_value, mae, mean_q = agent.train_on(batch([[1, 1]] * 2, [0, 1], [3, -1], [[0, 0]] * 2,
                                                   [True, True]))
    assert loss_value == pytest.approx(expected)
    assert mae == pytest.approx((3 + 1) / 4) and mean_q == 0  # masked targets vs all Q-values


def test_one_training_step_is_a_gradient_step_on_the_taken_action():
    agent = linear_agent(PerStepDQNConfig(**{**TINY.__dict__, "batch_size": 1, "gamma": 0.0}))
    set_linear(agent.model, np.zeros((2, 2)), [0, 0])
    agent.train_on(batch([[1, 2]], [1], [3], [[0, 0]], [True]))
    # mse: d/dW (Q_1 - 3)^2 = 2 (0 - 3) s = (-6, -12) on column 1; SGD 0.1 adds (0.6, 1.2)
    kernel, bias = agent.model.get_weights()
    np.testing.assert_allclose(kernel, [[0, 0.6], [0, 1.2]], rtol=1e-6)
    np.testing.assert_allclose(bias, [0, 0.6], rtol=1e-6)


def test_max_grad_norm_scales_the_gradients_as_torchs_clip_grad_norm():
    # the gradients of test_one_training_step_...: kernel column 1 (-6, -12), bias 1 -6:
    # global norm sqrt(36 + 144 + 36) = sqrt(216); clip to half of it (plus torch's 1e-6)
    norm = math.sqrt(216)
    for max_grad_norm, scale in ((0.5 * (norm + 1e-6), 0.5), (norm + 1, 1.0), (math.inf, 1.0)):
        agent = linear_agent(PerStepDQNConfig(**{**TINY.__dict__, "batch_size": 1, "gamma": 0.0,
                                                 "max_grad_norm": max_grad_norm}))
        set_linear(agent.model, np.zeros((2, 2)), [0, 0])
        agent.train_on(batch([[1, 2]], [1], [3], [[0, 0]], [True]))
        kernel, bias = agent.model.get_weights()  # SGD 0.1 of scale * (6, 12; 6)
        np.testing.assert_allclose(kernel, [[0, 0.6 * scale], [0, 1.2 * scale]], rtol=1e-5)
        np.testing.assert_allclose(bias, [0, 0.6 * scale], rtol=1e-5)


# --- when it trains and updates the target --------------------------------------------------------

def test_gradient_steps_train_that_many_times_on_batches_of_their_own():
    config = PerStepDQNConfig(**{**TINY.__dict__, "gradient_steps": 3})
    agent, by_hand = linear_agent(config), linear_agent(TINY)
    fill(agent, 6)
    fill(by_hand, 6)
    set_seeds(4, tensorflow=False)
    metrics = agent.train_after_step(5)
    set_seeds(4, tensorflow=False)
    expected = [by_hand.train() for _ in range(3)]  # three batches, sampled one after another
    assert metrics == expected and agent.training_steps == 3
    assert len({loss for loss, _, _ in metrics}) == 3  # three different batches and weights
    for ours, theirs in zip(agent.model.get_weights(), by_hand.model.get_weights()):
        np.testing.assert_array_equal(ours, theirs)
    again = linear_agent(config)  # after_step: the same, returning the last step's metrics
    fill(again, 6)
    set_seeds(4, tensorflow=False)
    assert again.after_step(5) == expected[-1] and again.training_steps == 3

def test_soft_update_moves_the_target_by_tau_after_each_training_step():
    agent = linear_agent(PerStepDQNConfig(**{**TINY.__dict__, "target_update": "soft", "tau": 0.25}))
    old_target = agent.target.get_weights()
    fill(agent, 4)
    agent.after_step(1)
    new_online = agent.model.get_weights()
    for target, old, online in zip(agent.target.get_weights(), old_target, new_online):
        np.testing.assert_allclose(target, 0.75 * old + 0.25 * online, rtol=1e-5, atol=1e-7)
    assert not np.allclose(agent.target.get_weights()[0], new_online[0])


def test_hard_update_copies_every_n_steps_and_not_between():
    agent = linear_agent(PerStepDQNConfig(**{**TINY.__dict__, "warmup_steps": 100,
                                             "target_update_period": 3}))
    copied = []
    for step in range(7):
        set_linear(agent.model, np.full((2, 2), step + 1.0), [0, 0])
        agent.after_step(step)
        copied.append(float(agent.target.get_weights()[0][0, 0]))
    assert copied == [1, 1, 1, 4, 4, 4, 7]  # copies at steps 0, 3, 6
    assert agent.training_steps == 0


def test_hard_update_by_episodes():
    agent = linear_agent(PerStepDQNConfig(**{**TINY.__dict__, "target_update": "episodes",
                                             "target_update_period": 2, "warmup_steps": 100}))
    copied = []
    for episode in range(4):
        set_linear(agent.model, np.full((2, 2), episode + 1.0), [0, 0])
        agent.after_step(episode)  # steps never copy with episode updates
        agent.after_episode(episode)
        copied.append(float(agent.target.get_weights()[0][0, 0]))
    assert copied == [1, 1, 3, 3]


def test_no_training_during_the_warm_up():
    agent = linear_agent(PerStepDQNConfig(**{**TINY.__dict__, "warmup_steps": 5}))
    fill(agent, 10)
    weights = agent.model.get_weights()
    assert [agent.after_step(step) for step in range(6)] == [None] * 6
    assert agent.training_steps == 0
    for before, after in zip(weights, agent.model.get_weights()):
        np.testing.assert_array_equal(before, after)
    assert agent.after_step(6) is not None and agent.training_steps == 1


def test_train_interval():
    agent = linear_agent(PerStepDQNConfig(**{**TINY.__dict__, "train_interval": 3}))
    fill(agent, 4)
    trained = [step for step in range(10) if agent.after_step(step) is not None]
    assert trained == [3, 6, 9]


def test_sb3s_step_order_trains_and_copies_after_the_step_completing_each_interval():
    def run(step_order):
        agent = linear_agent(PerStepDQNConfig(**{**TINY.__dict__, "warmup_steps": 4,
                                                 "train_interval": 3, "target_update_period": 3,
                                                 "step_order": step_order}))
        fill(agent, 4)
        copies = []
        agent.update_target = lambda: copies.append(step)
        trained = []
        for step in range(10):
            if agent.after_step(step) is not None:
                trained.append(step)
        return trained, copies

    # keras-rl2: t > 4 and t % 3 == 0; copies at t % 3 == 0
    assert run("keras_rl2") == ([6, 9], [0, 3, 6, 9])
    # SB3: n = t + 1 > 4 and n % 3 == 0 (n = 6, 9); copies at n = 3, 6, 9
    assert run("sb3") == ([5, 8], [2, 5, 8])


@pytest.mark.parametrize("step_order, step, copies_first", [("keras_rl2", 2, False),
                                                             ("sb3", 1, True)])
def test_sb3s_step_order_copies_the_weights_of_before_the_training(step_order, step, copies_first):
    agent = linear_agent(PerStepDQNConfig(**{**TINY.__dict__, "target_update_period": 2,
                                             "step_order": step_order}))
    fill(agent, 4)
    set_linear(agent.model, [[1, 2], [3, 4]], [5, 6])
    before = agent.model.get_weights()
    assert agent.after_step(step) is not None  # t = 2 (keras-rl2), n = 2 (SB3): trains and copies
    after = agent.model.get_weights()
    assert not np.array_equal(before[0], after[0])
    for target, expected in zip(agent.target.get_weights(), before if copies_first else after):
        np.testing.assert_array_equal(target, expected)


# --- rl-zoo3's CartPole-v1 settings, by SB3's schedule ------------------------------------------

def test_rl_zoo_epsilon_is_sb3s_linear_schedule_over_16_percent_of_5e4_steps():
    def sb3(t, budget=50_000):  # LinearSchedule(1.0, 0.04, 0.16)(1 - num_timesteps / budget)
        progress = t / budget
        return 0.04 if progress > 0.16 else 1.0 + progress * (0.04 - 1.0) / 0.16
    for t in (1000, 4000, 7999, 8000, 8001, 20_000, 49_999):
        assert RL_ZOO_CARTPOLE.epsilon(t) == pytest.approx(sb3(t), abs=1e-12)
    assert RL_ZOO_CARTPOLE.epsilon(4000) == pytest.approx(0.52)


def test_rl_zoo_cartpole_trains_and_copies_on_sb3s_steps():
    """1,300 steps of the preset: the first 1,000 at random; a hard copy after every 10th step
    (n = 10, 20, ... 1,300); 128 training steps after the 1,024th and the 1,280th (the 256-step
    rollouts that end past learning_starts = 1,000), the copy of n = 1,280 before them."""
    assert PRESETS["rl_zoo_dqn"] is RL_ZOO_CARTPOLE
    env = make_env("CartPole-v1", render_mode=None)
    agent = make_per_step_agent(RL_ZOO_CARTPOLE, env)
    events, played = [], [0]
    real_train, real_copy, real_train_after_step = agent.train, agent.update_target, agent.train_after_step
    agent.train = lambda: events.append(("train", played[0])) or real_train()
    agent.update_target = lambda: events.append(("copy", played[0])) or real_copy()

    def train_after_step(step):
        played[0] = step + 1
        return real_train_after_step(step)
    agent.train_after_step = train_after_step
    greedy = []
    real_greedy = agent.greedy_action
    agent.greedy_action = lambda state: greedy.append(played[0]) or real_greedy(state)
    history = train_per_step(agent, env, n_steps=1300, reset_seed=0, progress=False)
    env.close()
    expected = []  # SB3's rule, step by step: _on_step's copy, then train after a rollout
    for n in range(1, 1301):
        if n % 10 == 0:
            expected.append(("copy", n))
        if n % 256 == 0 and n > 1000:
            expected += [("train", n)] * 128
    assert events == expected
    assert [n for kind, n in events if kind == "train"][::128] == [1024, 1280]
    assert len(history.losses) == agent.training_steps == 256
    # no greedy action in the first 1,000 steps (num_timesteps < learning_starts); then epsilon
    # from 1 - 0.96 * 1000 / 8000 = 0.88 down: some greedy ones among the next 300
    assert greedy and min(greedy) >= 1000 and len(greedy) < 300


# --- sampling ----------------------------------------------------------------------------------

def test_sampling_without_replacement_draws_distinct_experiences():
    buffer = NumpyReplayBuffer(50)
    for index in range(20):
        buffer.append((np.array([index]), 0, 0.0, np.array([index]), False, False))
    set_seeds(1, tensorflow=False)
    for _ in range(20):
        states = buffer.sample(20, replace=False).states[:, 0]
        assert sorted(states) == list(range(20))
    set_seeds(1, tensorflow=False)
    repeats = [len(set(buffer.sample(20).states[:, 0])) < 20 for _ in range(20)]
    assert any(repeats)  # with replacement, 20 of 20 distinct is rare (20!/20**20)


def test_without_replacement_falls_back_to_with_replacement_below_a_batch():
    buffer = NumpyReplayBuffer(50)
    for index in range(3):
        buffer.append((np.array([index]), 0, 0.0, np.array([index]), False, False))
    assert len(buffer.sample(8, replace=False).states) == 8


# --- the loop, determinism, and the table -------------------------------------------------------

SMALL = PerStepDQNConfig(hidden_layers=(16,), warmup_steps=32, buffer_capacity=1000,
                         target_update="steps", target_update_period=50, double=True,
                         dueling=True, epsilon_schedule="linear", epsilon_start=1.0,
                         epsilon_end=0.05, epsilon_decay=200)


def test_training_is_deterministic_at_a_seed():
    runs = [train_per_step_dqn(replace(SMALL, seed=3), n_steps=150, progress=False) for _ in range(2)]
    (history, agent), (history2, agent2) = runs
    assert history.episode_rewards == history2.episode_rewards
    assert history.losses == history2.losses and len(history.losses) == 150 - 33
    assert sum(history.episode_lengths) == history.n_steps == 150
    for ours, theirs in zip(agent.model.get_weights(), agent2.model.get_weights()):
        np.testing.assert_array_equal(ours, theirs)


def test_the_loop_stops_at_n_episodes_or_when_the_callback_says_so():
    stops = []
    history, _ = train_per_step_dqn(SMALL, n_episodes=3, progress=False)
    assert len(history.episode_rewards) == 3
    env = make_env("CartPole-v1", render_mode=None)
    agent = make_per_step_agent(SMALL, env)
    history = train_per_step(agent, env, n_episodes=10, reset_seed=0, progress=False,
                             callback=lambda agent, episode, history: stops.append(episode) or episode == 1)
    assert stops == [0, 1] and len(history.episode_rewards) == 2
    with pytest.raises(ValueError, match="give n_steps or n_episodes"):
        train_per_step(agent, env)
    env.close()


def test_the_first_random_steps_ignore_the_network_and_epsilon():
    config = PerStepDQNConfig(hidden_layers=(8,), warmup_steps=1000, random_steps=40,
                              epsilon_start=0.0, epsilon_end=0.0)
    env = make_env("CartPole-v1", render_mode=None)
    agent = make_per_step_agent(config, env)
    greedy_calls = []
    agent.greedy_action = lambda state: greedy_calls.append(1) or 0
    set_seeds(5, tensorflow=False)
    train_per_step(agent, env, n_steps=60, reset_seed=0, progress=False)
    assert len(greedy_calls) == 60 - 40  # epsilon 0: greedy from step 40 on, never before
    set_seeds(5, tensorflow=False)
    expected = [np.random.randint(0, 2) for _ in range(40)]
    stored = [int(agent.replay_buffer[index][1]) for index in range(40)]
    assert stored == expected
    env.close()


def test_the_step_callback_sees_every_step_and_can_stop_mid_episode():
    env = make_env("CartPole-v1", render_mode=None)
    agent = make_per_step_agent(SMALL, env)
    seen = []
    history = train_per_step(agent, env, n_steps=500, reset_seed=0, progress=False,
                             step_callback=lambda agent, steps, history: seen.append(steps) or steps == 7)
    assert seen == list(range(1, 8)) and history.n_steps == 7 and history.stopped_early
    assert len(history.episode_rewards) == 1  # the cut episode, as an n_steps cut records it
    env.close()


def test_the_chapter_consumers_still_see_exactly_the_four_variants():
    from homl_rl import runs
    from homl_rl.crosscheck.checks import CHECKS
    from homl_rl.figures import FIGURES

    four = ["dqn", "fixed_q_targets", "double_dqn", "dueling_double_dqn"]
    assert list(CHAPTER_VARIANTS) == four
    assert list(VARIANTS)[:4] == four and "keras_rl_dqn" in VARIANTS
    assert [fig_id for fig_id in FIGURES if fig_id.endswith("_rewards_plot")
            and fig_id[:-len("_rewards_plot")] in VARIANTS] == [f"{v}_rewards_plot" for v in four]
    assert [name for name in runs.RUNS if name in VARIANTS] == four
    assert sum(name.startswith("training_step (") for name in CHECKS) == 4
    with pytest.raises(ValueError, match="variant must be one of 'dqn', .*'dueling_double_dqn', "
                                         "got 'keras_rl_dqn'"):
        make_agent("keras_rl_dqn", make_env("CartPole-v1", render_mode=None))


def test_a_per_step_row_trains_through_train_dqn():
    row = VARIANTS["keras_rl_dqn"]
    assert row.per_step and PRESETS[row.name] is KERAS_RL_CARTPOLE
    assert row.env_id == "CartPole-v0" and agent_class(row) is PerStepDQN
    history, agent = train_dqn("keras_rl_dqn", n_episodes=2, seed=0, progress=False,
                               return_agent=True, learning_rate=5e-3)
    assert len(history.episode_rewards) == 2 and agent.config.learning_rate == 5e-3
    # the same record as a chapter row's: sums of rewards, lengths, the last step indexes
    assert isinstance(history, TrainingHistory) and history.seed == 0
    assert history.episode_rewards == [float(n) for n in history.episode_lengths]
    assert history.last_steps == [n - 1 for n in history.episode_lengths]
    with pytest.raises(TypeError, match="unknown hyper-parameter"):
        train_dqn("keras_rl_dqn", n_episodes=1, progress=False, n_episodez=3)


def test_tf_agents_init_is_the_tutorials_q_network():
    from homl_rl.per_step_dqn import TF_AGENTS_CARTPOLE
    set_seeds(0)
    agent = PerStepDQN(TF_AGENTS_CARTPOLE, n_actions=2, input_shape=(4,))
    kernel1, bias1, kernel2, bias2, kernel3, bias3 = agent.model.get_weights()
    assert kernel1.shape == (4, 100) and kernel2.shape == (100, 50) and kernel3.shape == (50, 2)
    assert not bias1.any() and not bias2.any()
    # He truncated normal: |w| < 2 sigma, sigma = sqrt(2 / fan_in) / 0.8796 before truncation
    assert np.abs(kernel2).max() < 2 * math.sqrt(2 / 100) / 0.87962566103423978
    assert np.std(kernel2) == pytest.approx(math.sqrt(2 / 100), rel=0.05)
    assert np.abs(kernel3).max() <= 0.03 and np.all(bias3 == np.float32(-0.2))


def test_greedy_actions_follow_weights_set_by_hand_once_told():
    agent = linear_agent(PerStepDQNConfig(**{**TINY.__dict__, "hidden_layers": ()}))
    state = np.array([1.0, 0.0], np.float32)
    set_linear(agent.model, [[1, 0], [0, 0]], [0, 0])
    agent.weights_changed()
    assert agent.greedy_action(state) == 0
    set_linear(agent.model, [[0, 1], [0, 0]], [0, 0])
    agent.weights_changed()
    assert agent.greedy_action(state) == 1
    agent.observe(state, 0, 1.0, state, False)
    agent.observe(state, 0, 1.0, state, False)
    agent.train()  # the training step hands its new weights to the greedy actions
    assert agent.greedy_action(state) == int(np.argmax(agent.q_values(state[None])[0]))


def test_the_xla_step_stays_within_1e_5_of_the_plain_one_over_100_steps():
    from homl_rl.per_step_dqn import TF_AGENTS_CARTPOLE
    rng = np.random.default_rng(0)
    batches = [batch(rng.uniform(-1, 1, (64, 4)), rng.integers(0, 2, 64), np.ones(64),
                     rng.uniform(-1, 1, (64, 4)), rng.random(64) < 0.1) for _ in range(100)]
    runs = []
    for jit_compile in (False, True):
        set_seeds(0)
        agent = PerStepDQN(TF_AGENTS_CARTPOLE, n_actions=2, input_shape=(4,),
                           jit_compile=jit_compile)
        runs.append(([agent.train_on(experiences)[0] for experiences in batches],
                     agent.model.get_weights()))
    (plain_losses, plain_weights), (xla_losses, xla_weights) = runs
    np.testing.assert_allclose(xla_losses, plain_losses, rtol=1e-5)
    for xla_weight, plain_weight in zip(xla_weights, plain_weights):
        np.testing.assert_allclose(xla_weight, plain_weight, rtol=0, atol=1e-5)
