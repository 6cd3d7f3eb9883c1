"""The deep Q-learning family: networks, training steps, the loop, engines, pinned runs."""


import gymnasium as gym
import numpy as np
import pytest

from homl_rl.dqn import (CHAPTER_VARIANTS, DQN, DoubleDQN, DQNConfig, FixedQTargetsDQN,
                         build_dueling_q_network, build_q_network, make_agent, soft_update, train,
                         train_dqn)
from homl_rl.engines import dqn as dqn_engines
from homl_rl.engines.dqn import (DQNFastEngine, DQNNotebookEngine, make_dqn_engine,
                                 nadam_replica_is_exact, numpy_forward)
from homl_rl.engines.eager_replica import NadamReplica
from homl_rl.environments import make_env
from homl_rl.history import TrainingHistory
from homl_rl.seeding import set_seeds
from homl_rl.tf_setup import tf

# Per-episode rewards (the notebook's `rewards.append(step)`) at seed 42, on the pinned stack
# (requirements.txt, CPU). Where they came from:
# - the first 200 of each variant: the notebook's own cells (seeds/001, with
#   tf.random.set_seed(42) read as tf.keras.utils.set_random_seed(42), and the dueling cell
#   reseeded as train_dqn documents), run in a scratch folder, and our engine="notebook"
#   (first 100) gave the same lists;
# - all 600: our engine="fast", and DQNFastEngine(use_numpy=False) (the compiled call for every
#   action) gave the same lists.
PINNED_RUNS = {
    "dqn": (
        "26 8 19 16 14 15 20 33 43 15 17 36 17 36 22 24 40 24 52 31 11 13 24 36 22 47 34 17 "
        "31 25 27 16 11 24 20 32 15 27 13 25 12 9 21 21 38 19 20 137 20 16 10 22 20 29 15 53 "
        "12 28 17 11 12 21 24 19 9 8 8 12 18 14 53 15 10 17 18 34 22 26 17 16 23 9 23 8 22 34 "
        "25 24 35 13 18 16 20 9 12 42 14 14 20 49 27 16 12 15 12 16 21 40 15 14 21 19 42 24 "
        "13 11 13 14 20 17 41 32 16 14 38 19 19 14 18 40 16 23 50 57 34 23 21 36 92 54 45 17 "
        "26 25 22 14 46 14 7 27 19 63 34 28 28 21 11 24 8 32 12 43 74 83 17 58 35 20 21 9 25 "
        "28 75 137 112 22 10 18 14 17 13 11 39 14 10 21 17 31 31 11 15 21 14 24 15 45 133 100 "
        "47 53 59 103 17 32 83 33 122 27 17 94 21 21 199 165 54 51 12 45 26 20 85 14 36 19 19 "
        "47 58 128 138 142 144 55 126 75 65 147 145 122 199 87 171 104 199 119 144 108 199 29 "
        "163 125 30 55 40 84 49 97 89 149 56 199 121 199 199 139 199 78 199 111 57 176 141 "
        "107 51 52 140 171 194 84 199 153 35 115 132 43 135 19 136 145 113 11 199 199 139 199 "
        "99 83 199 130 135 17 110 22 103 20 21 20 22 46 38 13 109 23 136 152 20 157 144 199 "
        "199 199 199 199 199 199 199 175 175 163 116 147 146 120 116 124 176 135 123 129 139 "
        "149 37 160 150 69 194 147 160 199 194 166 153 149 164 126 165 191 149 169 145 199 "
        "155 161 199 174 199 165 147 190 133 195 147 199 173 180 174 173 199 188 174 199 199 "
        "168 199 199 199 199 199 199 199 199 199 199 196 199 199 199 199 199 199 199 199 199 "
        "199 199 199 199 199 199 199 199 199 199 199 199 199 199 199 199 199 199 199 199 199 "
        "194 199 199 199 199 199 199 199 199 199 199 199 199 199 199 199 198 199 199 199 199 "
        "199 199 199 199 199 199 196 190 199 199 199 199 199 187 199 160 199 199 199 135 199 "
        "199 199 199 199 199 145 177 177 149 199 199 165 199 199 199 131 135 185 125 122 165 "
        "199 199 199 199 199 199 154 199 199 163 141 146 199 199 137 115 144 133 105 147 102 "
        "102 144 176 190 199 124 144 199 132 199 110 140 128 129 149 199 103 199 199 122 93 "
        "92 100 99 93 138 199 199 114 198 199 160 134 199 123 132 121 169 178 109 150 114 179 "
        "175 199 199 199 191 199 132 199 141 136 139 177 199 181 199 199 199 199 199 174 199 "
        "199 199 163 199 178 199 199 165 187 159 199 199 199 196 199 156 188 199 199 187 178 "
        "199 199 175 199 199 199 178 199 "
    ),
    "fixed_q_targets": (
        "26 8 19 16 14 15 20 33 43 15 17 36 17 36 22 24 40 24 52 31 11 13 24 36 22 47 34 17 "
        "31 25 27 16 11 24 20 32 15 27 13 25 12 9 21 21 38 19 20 137 20 16 10 22 20 29 15 53 "
        "12 15 10 18 19 11 8 9 8 45 32 49 16 22 11 40 22 9 21 40 59 41 8 35 9 16 9 10 15 22 "
        "10 13 12 13 19 30 7 9 14 18 24 9 10 22 26 18 22 31 17 10 13 30 16 29 20 15 38 9 13 "
        "14 10 14 10 21 18 22 44 8 19 13 56 49 37 16 37 11 9 17 7 11 12 10 28 9 11 38 15 18 8 "
        "10 14 10 23 14 13 22 11 9 15 36 26 16 28 50 19 18 11 13 55 17 24 28 14 13 24 13 16 "
        "18 14 13 13 36 24 15 23 13 12 14 20 23 8 22 15 14 25 43 14 38 43 33 16 12 18 14 17 "
        "34 10 36 18 12 22 9 13 126 19 56 10 13 9 25 130 23 21 23 30 53 30 13 24 15 28 46 35 "
        "125 36 36 25 17 19 72 74 75 45 53 55 44 131 168 79 47 36 154 197 66 83 73 69 74 78 "
        "86 84 115 20 13 11 23 13 17 28 114 155 98 51 84 108 19 38 58 23 81 68 168 27 28 29 "
        "27 32 20 184 34 36 14 13 11 17 67 16 15 32 25 45 50 51 47 46 45 50 106 111 32 15 15 "
        "19 47 137 125 152 62 84 99 64 21 35 133 115 116 106 64 35 25 107 45 24 49 26 106 35 "
        "116 44 106 122 122 102 17 25 25 37 147 27 160 182 137 115 126 122 159 125 199 104 "
        "118 166 199 199 107 80 199 199 199 199 199 199 199 199 199 199 199 199 199 199 199 "
        "199 199 199 199 199 199 199 199 199 199 199 199 199 199 199 199 199 199 199 199 199 "
        "199 199 199 199 199 199 199 199 178 158 185 199 199 199 199 199 174 154 166 142 167 "
        "131 128 127 169 196 199 199 199 176 199 199 169 129 139 153 149 133 144 154 157 116 "
        "115 128 136 146 139 132 150 151 134 98 131 199 143 196 106 100 97 133 161 122 108 "
        "142 92 110 84 199 184 96 118 98 81 82 118 91 80 82 80 180 100 151 199 109 81 102 141 "
        "127 61 30 26 62 199 102 84 88 110 171 163 164 172 199 189 121 110 122 132 162 199 "
        "199 153 164 117 138 185 199 199 191 199 147 127 199 189 197 178 199 147 199 199 162 "
        "199 187 199 199 199 199 199 199 199 199 199 199 199 199 199 199 199 199 199 199 199 "
        "199 199 199 199 199 199 180 148 159 197 199 199 199 199 199 199 173 164 196 199 199 "
        "199 199 199 199 199 199 199 199 199 199 199 199 199 199 199 199 199 199 199 199 199 "
        "199 199 199 199 199 199 199 199 199 199 "
    ),
    "double_dqn": (
        "26 8 19 16 14 15 20 33 43 15 17 36 17 36 22 24 40 24 52 31 11 13 24 36 22 47 34 17 "
        "31 25 27 16 11 24 20 32 15 27 13 25 12 9 21 21 38 19 20 137 20 16 10 22 20 29 15 53 "
        "12 15 10 18 19 11 8 9 8 45 32 49 16 28 8 20 15 22 23 31 16 11 8 9 19 14 8 19 27 17 9 "
        "12 21 9 10 12 12 12 19 49 12 37 31 29 16 35 8 18 18 9 12 7 17 10 16 21 9 10 18 37 44 "
        "37 14 9 19 16 19 13 14 16 11 19 27 9 15 16 19 16 19 12 45 8 51 10 22 26 17 26 73 14 "
        "15 12 7 10 20 10 18 8 15 31 15 26 12 27 14 20 15 16 11 11 11 17 9 10 15 16 39 69 58 "
        "18 12 13 12 25 11 19 11 12 13 13 13 15 17 21 24 64 57 22 28 36 31 16 17 11 11 14 10 "
        "9 12 14 18 20 18 14 81 93 12 15 31 11 11 29 36 56 30 18 23 15 15 14 19 17 13 9 17 10 "
        "20 11 11 27 19 78 28 10 21 24 27 16 21 17 10 21 61 13 16 17 19 27 46 16 14 32 28 23 "
        "24 14 47 136 44 39 78 29 21 91 27 114 35 50 20 100 91 115 120 120 94 78 143 18 20 16 "
        "29 26 41 73 39 61 134 32 176 138 28 14 21 16 11 13 12 34 16 26 64 161 133 171 152 "
        "137 98 199 120 59 199 40 199 87 147 85 199 102 113 185 157 71 129 123 181 35 159 199 "
        "199 160 74 75 91 84 126 182 175 199 199 199 164 120 115 199 199 199 23 27 199 49 23 "
        "79 97 179 125 34 28 41 117 156 183 189 191 154 103 199 180 199 199 199 176 199 172 "
        "180 173 152 125 163 155 164 172 163 184 199 184 199 149 199 123 149 114 158 196 199 "
        "171 199 104 125 199 141 119 163 142 199 198 199 160 154 165 186 114 199 199 183 130 "
        "136 114 139 151 125 199 199 199 163 179 199 174 164 129 187 199 199 199 191 199 179 "
        "199 169 149 166 198 193 199 199 199 199 157 153 164 191 199 199 192 154 135 136 162 "
        "114 141 179 199 116 138 118 199 199 175 148 162 160 163 164 181 168 155 156 199 189 "
        "173 199 122 177 199 199 199 179 198 188 199 138 126 95 122 171 131 111 127 163 133 "
        "199 91 103 120 104 178 195 169 167 199 197 199 183 181 133 121 142 199 140 194 199 "
        "158 107 117 113 139 199 120 178 190 177 199 136 184 169 99 199 178 119 142 138 126 "
        "137 199 133 144 164 151 114 102 119 104 170 199 199 199 199 192 141 149 199 199 103 "
        "133 199 174 154 134 134 199 160 172 137 119 118 133 147 125 129 131 146 121 146 156 "
        "163 148 142 140 199 113 134 199 150 116 16 "
    ),
    "dueling_double_dqn": (
        "26 8 19 16 14 15 20 33 43 15 17 36 17 36 22 24 31 15 50 30 22 14 11 14 21 9 17 16 25 "
        "18 17 61 12 16 15 14 26 16 51 21 18 12 45 7 36 28 30 27 15 35 21 33 12 14 17 15 21 "
        "16 28 24 18 41 13 17 39 16 10 38 14 27 24 12 21 21 39 15 23 41 16 19 12 46 12 11 16 "
        "29 25 32 9 11 16 22 9 29 14 12 41 36 61 35 8 41 27 13 10 29 18 11 59 16 8 13 15 30 "
        "11 12 13 17 12 10 17 10 42 24 13 10 11 23 23 20 23 59 19 45 13 20 30 27 39 12 27 27 "
        "22 8 15 16 13 13 23 16 20 14 19 14 25 17 10 14 9 20 9 8 8 10 12 15 16 35 25 20 15 18 "
        "19 22 15 21 33 45 46 53 24 31 18 17 16 44 17 76 69 44 61 68 25 16 12 9 18 10 10 63 "
        "25 39 26 13 30 15 19 24 13 13 18 17 15 15 9 9 14 11 56 33 21 21 20 9 7 11 14 21 10 "
        "10 20 48 9 8 20 10 16 10 23 16 19 12 14 11 12 25 9 12 45 17 24 15 13 21 9 9 9 14 10 "
        "10 10 9 9 10 33 77 59 43 59 26 23 45 28 19 40 40 35 145 82 74 79 25 142 93 173 17 55 "
        "14 44 42 29 29 103 199 152 199 199 96 183 194 199 199 199 78 49 19 24 13 14 12 12 12 "
        "12 10 12 199 106 199 126 43 58 44 66 51 46 89 136 15 162 156 126 96 27 38 39 39 40 "
        "22 56 53 53 28 20 16 18 39 34 68 71 77 188 91 34 23 30 29 13 14 8 12 10 10 12 11 14 "
        "24 199 32 26 14 15 10 12 12 12 12 8 14 9 12 32 41 14 9 9 11 10 9 8 7 11 10 13 9 10 "
        "34 46 90 60 107 72 10 54 9 8 11 8 7 9 10 9 9 7 88 105 98 75 161 126 98 74 103 117 45 "
        "46 9 9 10 8 10 12 9 7 10 9 8 8 12 7 9 7 8 10 126 199 199 199 184 144 126 113 105 199 "
        "8 9 10 8 10 8 11 9 9 43 10 128 170 199 199 175 144 113 120 116 105 138 125 120 127 "
        "179 199 199 142 91 92 72 57 41 33 37 35 31 28 35 30 38 74 144 138 136 120 143 188 92 "
        "82 199 199 89 64 55 42 39 95 104 110 125 143 199 199 199 199 199 167 136 164 122 122 "
        "135 153 158 166 157 180 140 138 155 127 79 69 130 140 148 199 142 134 157 136 114 "
        "136 119 138 139 131 199 199 152 110 82 34 23 21 27 36 129 199 140 139 132 125 86 38 "
        "102 109 104 106 187 199 199 189 140 143 138 124 144 161 199 199 153 129 127 111 111 "
        "114 111 119 122 199 199 199 199 67 "
    ),
}
PINNED = {variant: [int(word) for word in "".join(text).split()]
          for variant, text in PINNED_RUNS.items()}


def run(variant, n_episodes, **kwargs):
    """The notebook's ``rewards`` list of a run (each episode's last step index)."""
    history, model = train_dqn(variant, n_episodes, progress=False, **kwargs)
    return history.last_steps


# --- the networks ----------------------------------------------------------------------

def test_q_network_is_the_notebooks():
    model = build_q_network((4,), 2)
    assert [layer.units for layer in model.layers] == [32, 32, 2]
    assert [layer.activation.__name__ for layer in model.layers] == ["elu", "elu", "linear"]
    assert model.input_shape == (None, 4)


def _notebook_dueling_model(n_outputs=2):
    """The "Dueling Double DQN" cell, verbatim."""
    input_states = tf.keras.layers.Input(shape=[4])
    hidden1 = tf.keras.layers.Dense(32, activation="elu")(input_states)
    hidden2 = tf.keras.layers.Dense(32, activation="elu")(hidden1)
    state_values = tf.keras.layers.Dense(1)(hidden2)
    raw_advantages = tf.keras.layers.Dense(n_outputs)(hidden2)
    advantages = raw_advantages - tf.reduce_max(raw_advantages, axis=1,
                                                keepdims=True)
    Q_values = state_values + advantages
    return tf.keras.Model(inputs=[input_states], outputs=[Q_values])


def test_dueling_network_starts_from_the_notebooks_weights():
    set_seeds(42)
    theirs = _notebook_dueling_model().get_weights()
    set_seeds(42)
    ours = build_dueling_q_network((4,), 2).get_weights()
    assert len(ours) == len(theirs) == 8
    for a, b in zip(ours, theirs):
        np.testing.assert_array_equal(a, b)


def _dense_layers_by_kernel_shape(model):
    return {tuple(layer.kernel.shape): layer for layer in model.layers
            if isinstance(layer, tf.keras.layers.Dense)}


def test_dueling_q_values_are_state_value_plus_advantage_minus_max_advantage():
    model = build_dueling_q_network((2,), 3)
    layers = _dense_layers_by_kernel_shape(model)
    passthrough = np.zeros((2, 32), np.float32)
    passthrough[0, 0] = passthrough[1, 1] = 1  # hidden1 = elu([x0, x1, 0, ...]) = [x0, x1, 0, ...] for x > 0
    layers[2, 32].set_weights([passthrough, np.zeros(32, np.float32)])
    layers[32, 32].set_weights([np.eye(32, dtype=np.float32), np.zeros(32, np.float32)])
    value_kernel = np.zeros((32, 1), np.float32)
    value_kernel[:2, 0] = [2, 1]  # V = 2 x0 + x1 + 0.5
    layers[32, 1].set_weights([value_kernel, np.array([0.5], np.float32)])
    advantage_kernel = np.zeros((32, 3), np.float32)
    advantage_kernel[:2] = [[1, 0, 1], [0, 1, 1]]  # A = [x0, x1 + 1, x0 + x1 - 1]
    layers[32, 3].set_weights([advantage_kernel, np.array([0, 1, -1], np.float32)])

    states = np.array([[1.0, 2.0], [3.0, 0.5], [0.25, 0.25]], np.float32)
    x0, x1 = states[:, 0:1], states[:, 1:2]
    V = 2 * x0 + x1 + 0.5
    A = np.hstack([x0, x1 + 1, x0 + x1 - 1])
    expected = V + A - A.max(axis=1, keepdims=True)  # e.g. state [1, 2]: V=4.5, A=[1, 3, 2] -> [2.5, 4.5, 3.5]
    np.testing.assert_allclose(expected[0], [2.5, 4.5, 3.5])
    np.testing.assert_allclose(model(states).numpy(), expected, rtol=1e-6)
    np.testing.assert_allclose(model.predict(states, verbose=0), expected, rtol=1e-6)
    Q_values, error = numpy_forward(model)(states[0])
    np.testing.assert_allclose(Q_values, expected[0], rtol=1e-12)


@pytest.mark.parametrize("builder", [build_q_network, build_dueling_q_network])
def test_numpy_forward_is_within_its_error_bound_of_tensorflow(builder):
    set_seeds(0)
    model = builder((4,), 2)
    for layer in model.layers:  # larger weights than at initialization, as after training
        if layer.weights:
            layer.set_weights([w * 3 for w in layer.get_weights()])
    forward = numpy_forward(model)
    engine = DQNFastEngine()
    states = np.random.default_rng(0).normal(scale=2, size=(300, 4)).astype(np.float32)
    tf_Q_values = engine.predict(model, states)
    for state, theirs in zip(states, tf_Q_values):
        ours, error = forward(state)
        assert np.all(np.abs(ours - theirs) <= error)


@pytest.mark.parametrize("builder", [build_q_network, build_dueling_q_network])
def test_fast_engine_predict_is_bit_identical_to_model_predict(builder):
    set_seeds(1)
    model = builder((4,), 2)
    states = np.random.default_rng(1).normal(scale=2, size=(100, 4)).astype(np.float32)
    engine = DQNFastEngine()
    for batch in (states[:1], states[:32], states):  # one row, predict's batch, 4 batches
        np.testing.assert_array_equal(engine.predict(model, batch), model.predict(batch, verbose=0))


# --- epsilon_greedy_policy and play_one_step -------------------------------------------

def small_agent(cls=DQN, engine="fast", **kwargs):
    set_seeds(42)
    model = build_q_network((4,), 2)
    target = tf.keras.models.clone_model(model) if cls is not DQN else None
    if target is not None:
        target.set_weights(model.get_weights())
    return cls(model=model, optimizer=tf.keras.optimizers.Nadam(learning_rate=1e-2),
               target=target, engine=engine, **kwargs)


def test_epsilon_greedy_policy_draws_rand_then_randint_as_the_notebook():
    agent = small_agent()
    state = np.array([0.1, -0.2, 0.03, 0.4], np.float32)
    np.random.seed(7)
    expected = np.random.randint(2) if np.random.rand() < 0.5 else None
    np.random.seed(7)
    action = agent.epsilon_greedy_policy(state, 0.5)
    if expected is not None:
        assert action == expected
    greedy = agent.model.predict(state[np.newaxis], verbose=0)[0].argmax()
    assert agent.epsilon_greedy_policy(state) == greedy  # epsilon=0: the DQN's best action


@pytest.mark.parametrize("engine", ["notebook", "fast"])
def test_greedy_action_matches_predict_argmax(engine):
    agent = small_agent(engine=engine)
    states = np.random.default_rng(3).normal(size=(5 if engine == "notebook" else 100, 4))
    states = states.astype(np.float32)
    expected = agent.model.predict(states, verbose=0).argmax(axis=1)
    assert [agent.epsilon_greedy_policy(state) for state in states] == list(expected)


def test_play_one_step_appends_the_experience_and_returns_the_step():
    agent = small_agent()
    env = make_env("CartPole-v1", render_mode=None)
    state, info = env.reset(seed=42)
    next_state, reward, done, truncated, info = agent.play_one_step(env, state, 1.0)
    assert len(agent.replay_buffer) == 1
    stored_state, action, stored_reward, stored_next_state, stored_done, stored_truncated = \
        agent.replay_buffer[0]
    assert stored_state is state and stored_next_state is next_state
    assert action in (0, 1) and stored_reward == reward == 1.0
    assert (stored_done, stored_truncated) == (done, truncated)


# --- training_step against hand-computed targets ---------------------------------------

def linear_model(kernel, bias=(0, 0)):
    model = tf.keras.Sequential([tf.keras.layers.Dense(2, input_shape=[2])])
    model.set_weights([np.array(kernel, np.float32), np.array(bias, np.float32)])
    return model


ONLINE = [[1, 5], [4, 2]]  # Q(s'=[1, 0]) = [1, 5], Q(s'=[0, 1]) = [4, 2]
TARGET = [[7, 2], [3, 6]]  # Q_target([1, 0]) = [7, 2], Q_target([0, 1]) = [3, 6]
EXPERIENCES = [  # (state, action, reward, next_state, done, truncated)
    (np.array([1, 0], np.float32), 0, 1.0, np.array([1, 0], np.float32), False, False),
    (np.array([0, 1], np.float32), 1, 2.0, np.array([0, 1], np.float32), False, False),
    (np.array([1, 1], np.float32), 0, 3.0, np.array([1, 0], np.float32), True, False),
    (np.array([2, 0], np.float32), 1, 4.0, np.array([0, 1], np.float32), False, True),
]
# with discount_factor 0.5; done or truncated -> the target is the reward alone
HAND_TARGETS = {
    DQN: [1 + 0.5 * 5, 2 + 0.5 * 4, 3, 4],  # online max
    FixedQTargetsDQN: [1 + 0.5 * 7, 2 + 0.5 * 6, 3, 4],  # target max
    DoubleDQN: [1 + 0.5 * 2, 2 + 0.5 * 3, 3, 4],  # online argmax (1, then 0), target's value there
}


@pytest.mark.parametrize("engine", ["notebook", "fast"])
@pytest.mark.parametrize("cls", [DQN, FixedQTargetsDQN, DoubleDQN],
                         ids=["plain_max", "fixed_target_max", "double_online_argmax"])
def test_training_step_targets_match_hand_computed_ones(cls, engine):
    recorded = {}

    def recording_mse(y_true, y_pred):
        recorded["targets"], recorded["Q_values"] = np.array(y_true), y_pred.numpy()
        return tf.keras.losses.mean_squared_error(y_true, y_pred)

    model, target = linear_model(ONLINE), linear_model(TARGET)
    agent = cls(model=model, target=target, optimizer=tf.keras.optimizers.SGD(0.01),
                loss_fn=recording_mse, discount_factor=0.5, engine=engine)
    for experience in EXPERIENCES:
        agent.replay_buffer.append(experience)
    np.random.seed(0)
    indices = np.random.randint(4, size=6)
    np.random.seed(0)
    loss = agent.training_step(6)

    np.testing.assert_array_equal(recorded["targets"][:, 0], np.array(HAND_TARGETS[cls])[indices])
    states = np.array([EXPERIENCES[i][0] for i in indices])
    actions = [EXPERIENCES[i][1] for i in indices]
    Q_online = states @ np.array(ONLINE, np.float32)
    np.testing.assert_allclose(recorded["Q_values"][:, 0], Q_online[np.arange(6), actions])
    assert float(loss) == pytest.approx(np.mean((recorded["targets"] - recorded["Q_values"]) ** 2))
    assert not np.array_equal(model.get_weights()[0], ONLINE)  # one gradient step was taken
    np.testing.assert_array_equal(target.get_weights()[0], TARGET)  # the target is untouched


def test_double_dqn_target_uses_online_argmax():
    """Where online and target nets disagree, the target's max would be 7, Double DQN's 2."""
    agent = DoubleDQN(model=linear_model(ONLINE), target=linear_model(TARGET),
                      optimizer=tf.keras.optimizers.SGD(0.01))
    next_states = np.array([[1, 0]], np.float32)
    assert agent.max_next_Q_values(next_states)[0] == 2
    assert FixedQTargetsDQN.max_next_Q_values(agent, next_states)[0] == 7
    assert DQN.max_next_Q_values(agent, next_states)[0] == 5


def test_soft_update_is_the_notebooks_commented_alternative():
    model, target = linear_model(ONLINE, (1, 1)), linear_model(TARGET)
    soft_update(target, model, 0.01)
    np.testing.assert_allclose(target.get_weights()[0],
                               0.99 * np.array(TARGET, np.float32) + 0.01 * np.array(ONLINE, np.float32))
    np.testing.assert_allclose(target.get_weights()[1], [0.01, 0.01])


# --- the training loop, on a fake agent -------------------------------------------------

class FakeModel:
    def __init__(self):
        self.weights = [np.zeros(1)]

    def get_weights(self):
        return list(self.weights)

    def set_weights(self, weights):
        self.weights = list(weights)


class FakeEnv:
    """Episode e lasts LENGTHS[e] steps (then done)."""

    def __init__(self, lengths):
        self.lengths, self.episode, self.t = lengths, -1, 0

    def reset(self, seed=None):
        self.episode, self.t = self.episode + 1, 0
        return np.zeros(4, np.float32), {}


class FakeAgent:
    def __init__(self, env, with_target=True):
        self.env, self.model = env, FakeModel()
        self.target = FakeModel() if with_target else None
        self.epsilons, self.trained_at, self.synced_at = [], [], []

    def play_one_step(self, env, state, epsilon):
        self.epsilons.append((env.episode, epsilon))
        env.t += 1
        return state, 1.0, env.t >= env.lengths[env.episode], False, {}

    def training_step(self, batch_size):
        self.trained_at.append(self.env.episode)
        self.model.weights = [np.full(1, float(self.env.episode))]  # "trained at episode e"

    def set_weights(self, weights):
        self.model.set_weights(weights)


def test_training_loop_records_steps_keeps_best_weights_and_trains_after_episode_50():
    lengths = [5] * 60 + [9, 3, 9, 2] + [1] * 56  # 120 episodes
    env = FakeEnv(lengths)
    agent = FakeAgent(env)
    original_set = agent.target.set_weights
    agent.target.set_weights = lambda w: (agent.synced_at.append(env.episode), original_set(w))
    history = train(agent, env, DQNConfig(n_episodes=120), progress=False)

    assert history.last_steps == [length - 1 for length in lengths]  # as the notebook's rewards
    assert history.episode_lengths == lengths and history.n_steps == sum(lengths)
    assert agent.trained_at == list(range(51, 120))  # `if episode > 50`
    assert agent.synced_at == [100]  # `if episode % 50 == 0` inside `if episode > 50`
    # best score 8 at episodes 60 and 62: the latest tie wins (`step >= best_score`), and its
    # weights are the ones after the training step of episode 61
    assert agent.model.weights == [61.0]
    assert dict(agent.epsilons)[0] == 1 and dict(agent.epsilons)[100] == pytest.approx(0.8)
    assert DQNConfig().epsilon(600) == 0.01


def test_training_loop_stops_an_episode_at_n_max_steps():
    env = FakeEnv([1000] * 3)
    history = train(FakeAgent(env, with_target=False), env,
                    DQNConfig(n_episodes=3, n_max_steps=7), progress=False)
    assert history.last_steps == [6, 6, 6]


def test_soft_target_updates_replace_the_hard_copy():
    env = FakeEnv([2] * 101)
    agent = FakeAgent(env)
    train(agent, env, DQNConfig(n_episodes=101, soft_target_update=0.5), progress=False)
    assert agent.trained_at == list(range(51, 101))
    expected = 0.0
    for episode in range(51, 101):  # target = 0.5 target + 0.5 online, after every training step
        expected = 0.5 * expected + 0.5 * episode
    assert agent.target.weights[0][0] == expected  # no hard copy at episode 100 (it would be 100)


def test_an_env_step_budget_cuts_the_last_episode_and_still_trains_after_it():
    env = FakeEnv([5, 5, 5, 5])
    agent = FakeAgent(env, with_target=False)
    seen = []
    history = train(agent, env, DQNConfig(n_episodes=4, training_starts_after=0), progress=False,
                    max_env_steps=12, callback=lambda episode, steps: seen.append((episode, steps)))
    assert history.last_steps == [4, 4, 1]  # the third episode cut after 2 steps, the fourth never played
    assert len(agent.epsilons) == 12  # exactly the budget's steps
    assert agent.trained_at == [1, 2]  # `if episode > 0`: the cut episode trains too
    assert seen == [(0, 5), (1, 10), (2, 12)]  # after each episode's training step


def test_a_budget_the_episodes_do_not_reach_changes_nothing():
    lengths = [3, 7, 2, 9, 4]
    plain_env, budget_env = FakeEnv(lengths), FakeEnv(lengths)
    plain, budget = FakeAgent(plain_env), FakeAgent(budget_env)
    config = DQNConfig(n_episodes=5, training_starts_after=1, target_update_period=2)
    seen = []
    history = train(plain, plain_env, config, progress=False)
    assert history == train(budget, budget_env, config, progress=False, max_env_steps=1000,
                            callback=lambda episode, steps: seen.append(steps))
    assert history.last_steps == [length - 1 for length in lengths]
    assert (plain.epsilons, plain.trained_at, plain.synced_at, plain.model.weights) == (
        budget.epsilons, budget.trained_at, budget.synced_at, budget.model.weights)
    assert seen == list(np.cumsum(lengths))


def test_a_bad_env_step_budget_is_a_clear_error():
    env = FakeEnv([5])
    with pytest.raises(ValueError, match="max_env_steps must be a positive integer, got 0"):
        train(FakeAgent(env), env, DQNConfig(n_episodes=1), progress=False, max_env_steps=0)


# --- pinned runs: fast engine == exact engine == the notebook's cells ---------------------

@pytest.mark.parametrize("variant", CHAPTER_VARIANTS)
def test_first_100_episodes_are_the_pinned_ones(variant):
    assert run(variant, 100) == PINNED[variant][:100]


def test_fast_engine_equals_notebook_engine_once_training_starts():
    """The dueling variant (dueling model, Double-DQN target) through its first 2 training steps."""
    assert run("dueling_double_dqn", 53, engine="notebook") == PINNED["dueling_double_dqn"][:53]


@pytest.mark.parametrize("variant", CHAPTER_VARIANTS)
def test_fast_and_notebook_engines_take_bit_identical_training_steps(variant):
    env = make_env("CartPole-v1", render_mode=None)
    agents = [make_agent(variant, env, engine=engine) for engine in ("notebook", "fast")]
    state, info = env.reset(seed=0)
    for step in range(300):  # the same experiences in both buffers
        action = step % 2
        next_state, reward, done, truncated, info = env.step(action)
        for agent in agents:
            agent.replay_buffer.append((state, action, reward, next_state, done, truncated))
        state = env.reset()[0] if done or truncated else next_state
    for seed in range(3):
        for agent in agents:
            np.random.seed(seed)
            agent.training_step(32)
        for ours, theirs in zip(agents[1].model.get_weights(), agents[0].model.get_weights()):
            np.testing.assert_array_equal(ours, theirs)
    states = np.array([experience[0] for experience in list(agents[0].replay_buffer)[:40]])
    expected = agents[0].model.predict(states, verbose=0).argmax(axis=1)
    assert [agents[1].epsilon_greedy_policy(state) for state in states] == list(expected)


@pytest.mark.slow
@pytest.mark.parametrize("variant", CHAPTER_VARIANTS)
def test_notebook_engine_first_100_episodes_are_the_pinned_ones(variant):
    assert run(variant, 100, engine="notebook") == PINNED[variant][:100]


@pytest.mark.slow
@pytest.mark.parametrize("variant", CHAPTER_VARIANTS)
def test_full_600_episode_run_is_the_pinned_one(variant):
    history, model = train_dqn(variant, progress=False)
    assert history.last_steps == PINNED[variant]


@pytest.mark.slow
@pytest.mark.parametrize("variant", CHAPTER_VARIANTS)
def test_numpy_shortcut_never_changes_an_action_in_a_full_run(variant):
    engine = DQNFastEngine(use_numpy=False)  # the compiled call decides every greedy action
    assert run(variant, 600, engine=engine) == PINNED[variant]


def test_numpy_replay_buffer_trains_identically():
    assert run("double_dqn", 60, replay_buffer="numpy") == PINNED["double_dqn"][:60]


def test_train_dqn_returns_a_typed_history_and_the_agents_model():
    history, agent = train_dqn("dqn", 3, n_max_steps=5, progress=False, return_agent=True)
    # 5 steps each (the first episodes last 27, 9, 20 steps): the notebook records step 4
    assert history.last_steps == [4, 4, 4] and history.episode_lengths == [5, 5, 5]
    assert history.episode_rewards == [5.0, 5.0, 5.0] and history.n_steps == 15
    assert history.losses == []  # no training step before episode 51
    assert isinstance(history, TrainingHistory)
    assert history.config.n_max_steps == 5 and history.seed == history.config.seed == 42
    history, model = train_dqn("dqn", 3, n_max_steps=5, seed=7, progress=False)
    assert isinstance(model, tf.keras.Model) and history.seed == 7


# --- bad input -------------------------------------------------------------------------

def test_continuous_action_space_is_a_clear_error():
    with pytest.raises(ValueError, match="needs a Discrete action space, got Box"):
        train_dqn("dqn", 1, env=make_env("Pendulum-v1", render_mode=None), progress=False)


class ImageEnv(gym.Env):
    observation_space = gym.spaces.Box(0, 255, shape=(8, 8), dtype=np.uint8)
    action_space = gym.spaces.Discrete(2)


def test_non_flat_observations_are_a_clear_error():
    with pytest.raises(ValueError, match=r"flat observation vector.*shape \(8, 8\)"):
        train_dqn("dqn", 1, env=ImageEnv(), progress=False)


def test_wrong_state_shape_is_a_clear_error():
    agent = small_agent()
    with pytest.raises(ValueError, match=r"state has shape \(3,\).*states of shape \(4,\)"):
        agent.epsilon_greedy_policy(np.zeros(3, np.float32))


@pytest.mark.parametrize("epsilon", [-0.1, 1.5])
def test_epsilon_outside_0_1_is_a_clear_error(epsilon):
    agent = small_agent()
    env = make_env("CartPole-v1", render_mode=None)
    state, info = env.reset(seed=0)
    with pytest.raises(ValueError, match=f"epsilon must be in \\[0, 1\\], got {epsilon}"):
        agent.epsilon_greedy_policy(state, epsilon)
    with pytest.raises(ValueError, match="epsilon must be in"):
        agent.play_one_step(env, state, epsilon)


def test_unknown_variant_engine_or_hyperparameter_is_a_clear_error():
    with pytest.raises(ValueError, match="variant must be one of 'dqn', 'fixed_q_targets'"):
        train_dqn("rainbow", 1, progress=False)
    with pytest.raises(ValueError, match="engine must be one of 'notebook', 'fast'"):
        train_dqn("dqn", 1, engine="gpu", progress=False)
    with pytest.raises(TypeError, match="unknown hyper-parameter.*gama.*valid: .*discount_factor"):
        train_dqn("dqn", 1, gama=0.9, progress=False)
    with pytest.raises(ValueError, match=r"discount_factor must be in \[0, 1\], got 1.5"):
        DQNConfig(discount_factor=1.5)
    with pytest.raises(ValueError, match="soft_target_update needs a target network"):
        train_dqn("dqn", 1, soft_target_update=0.01, progress=False)
    with pytest.raises(ValueError, match="needs a target network"):
        DoubleDQN(model=linear_model(ONLINE), optimizer=tf.keras.optimizers.SGD(0.01))


def test_an_engine_is_chosen_by_name_or_given():
    assert isinstance(make_dqn_engine("notebook"), DQNNotebookEngine)
    assert isinstance(make_dqn_engine("fast"), DQNFastEngine)
    assert isinstance(make_dqn_engine(None), DQNFastEngine)  # the default
    engine = DQNFastEngine(use_numpy=False)
    assert make_dqn_engine(engine) is engine
    assert DQN(model=linear_model(ONLINE), optimizer=None, engine=engine).engine is engine
    with pytest.raises(TypeError, match="an engine needs predict, greedy_action and weights_changed"):
        make_dqn_engine(object())


# --- the fast engine's Nadam replica: Keras' eager step, bit for bit ---------------------

def nadam_state(optimizer, variables):
    """Everything a Nadam step reads and writes, as bytes: weights, m, v, u_product, iterations."""
    index = [optimizer._index_dict[optimizer._var_key(variable)] for variable in variables]
    arrays = [variable.numpy() for variable in variables]
    arrays += [optimizer._momentums[i].numpy() for i in index]
    arrays += [optimizer._velocities[i].numpy() for i in index]
    arrays += [optimizer._u_product.numpy(), optimizer.iterations.numpy()]
    return [array.tobytes() for array in arrays] + [optimizer._u_product_counter]


def random_gradients(rng, variables, step):
    """Gradients at scales from 1e-22 to 10, some zeros. Tiny ones every fourth step, from the
    first: their squares (and from fresh moments, v) are subnormal, which TF flushes to zero."""
    scale = 10.0 ** rng.uniform(-22, -19) if step % 4 == 0 else 10.0 ** rng.uniform(-4, 1)
    grads = [(rng.normal(size=variable.shape) * scale).astype(np.float32) for variable in variables]
    grads[step % len(grads)][..., ::3] = 0
    return grads


def test_the_nadam_replica_is_proven_exact_on_this_machine():
    assert nadam_replica_is_exact()


@pytest.mark.parametrize("builder, learning_rate", [(build_q_network, 1e-2),
                                                    (build_dueling_q_network, 5e-3)])
def test_nadam_replica_steps_equal_keras_nadam_bit_for_bit(builder, learning_rate):
    set_seeds(0)
    theirs, ours = builder(), builder()
    ours.set_weights(theirs.get_weights())
    keras_nadam, replica_nadam = (tf.keras.optimizers.Nadam(learning_rate=learning_rate)
                                  for _ in range(2))
    replica = NadamReplica(replica_nadam, ours.trainable_variables)
    rng = np.random.default_rng(0)
    for step in range(30):
        grads = random_gradients(rng, ours.trainable_variables, step)
        keras_nadam.apply_gradients(zip([tf.constant(g) for g in grads], theirs.trainable_variables))
        replica.apply_gradients(grads)
        assert (nadam_state(replica_nadam, ours.trainable_variables)
                == nadam_state(keras_nadam, theirs.trainable_variables)), f"step {step}"


def test_nadam_replica_takes_up_steps_keras_took_in_between():
    set_seeds(0)
    theirs, ours = build_q_network(), build_q_network()
    ours.set_weights(theirs.get_weights())
    keras_nadam, mixed_nadam = (tf.keras.optimizers.Nadam(learning_rate=1e-2) for _ in range(2))
    engine = DQNFastEngine()
    rng = np.random.default_rng(1)
    for step in range(8):
        grads = random_gradients(rng, ours.trainable_variables, step)
        keras_nadam.apply_gradients(zip([tf.constant(g) for g in grads], theirs.trainable_variables))
        mixed = zip([tf.constant(g) for g in grads], ours.trainable_variables)
        if step in (2, 3, 6):  # Keras' own step, behind the replica's back
            mixed_nadam.apply_gradients(mixed)
        else:
            engine.apply_gradients(mixed_nadam, mixed)
    assert engine.n_replica_steps == 5
    assert (nadam_state(mixed_nadam, ours.trainable_variables)
            == nadam_state(keras_nadam, theirs.trainable_variables))


@pytest.mark.parametrize("optimizer", [
    lambda: tf.keras.optimizers.Adam(learning_rate=1e-3),
    lambda: tf.keras.optimizers.Nadam(learning_rate=1e-2, clipnorm=1.0),
    lambda: tf.keras.optimizers.Nadam(
        learning_rate=tf.keras.optimizers.schedules.ExponentialDecay(1e-2, 10, 0.5)),
], ids=["adam", "nadam_clipnorm", "nadam_schedule"])
def test_other_optimizers_take_their_own_eager_step(optimizer):
    set_seeds(0)
    theirs, ours = build_q_network(), build_q_network()
    ours.set_weights(theirs.get_weights())
    their_optimizer, our_optimizer = optimizer(), optimizer()
    engine = DQNFastEngine()
    rng = np.random.default_rng(2)
    for step in range(3):
        grads = [tf.constant(g) for g in random_gradients(rng, ours.trainable_variables, step)]
        their_optimizer.apply_gradients(zip(grads, theirs.trainable_variables))
        engine.apply_gradients(our_optimizer, zip(grads, ours.trainable_variables))
    assert engine.n_replica_steps == 0
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        assert a.tobytes() == b.tobytes()


def test_a_training_run_steps_through_the_nadam_replica():
    history, agent = train_dqn("double_dqn", 53, progress=False, return_agent=True)
    assert history.last_steps == PINNED["double_dqn"][:53]
    assert len(history.losses) == 2 and all(loss > 0 for loss in history.losses)
    assert agent.engine.n_replica_steps == 2  # the training steps after episodes 51 and 52
    assert int(agent.optimizer.iterations.numpy()) == 2


def test_without_an_exact_replica_the_run_warns_and_keeps_the_notebooks_numbers(monkeypatch):
    monkeypatch.setattr(dqn_engines, "nadam_replica_is_exact", lambda: False)
    dqn_engines.nadam_replica_is_usable.cache_clear()
    try:
        with pytest.warns(RuntimeWarning, match="replica of Keras' Nadam does not match"):
            history, agent = train_dqn("dqn", 53, progress=False, return_agent=True)
    finally:
        dqn_engines.nadam_replica_is_usable.cache_clear()
    assert history.last_steps == PINNED["dqn"][:53]
    assert agent.engine.n_replica_steps == 0
