"""Section "Neural Network Policies".

Mirrors the notebook's cells: the 5-unit policy network (built right after
seeding with 42), ``pg_policy`` (the notebook's action rule: go left with the
net's probability), and the 2nd edition's exercise "learn the basic policy
with 50 parallel environments", on Gymnasium's API.
"""

from dataclasses import dataclass

import numpy as np

from homl_rl.checks import check_discrete_actions, check_observation, check_positive_int
from homl_rl.environments import basic_policy, make_env
from homl_rl.progress import progress_bar
from homl_rl.seeding import set_seeds
from homl_rl.tf_setup import tf

CARTPOLE_OBS_SHAPE = (4,)


def policy_net(seed=42, revision="current"):
    """The notebook's policy network: ``Dense(5, relu)`` → ``Dense(1, sigmoid)``, p(left).

    Mirrors ``tf.random.set_seed(42); model = tf.keras.Sequential([...])``, with the
    seeding read as ``tf.keras.utils.set_random_seed`` (on TF 2.15 Keras' unseeded
    initializers draw their seeds from Python's ``random``, which ``tf.random.set_seed``
    alone leaves unseeded); ``seed=None`` builds it unseeded. Like the notebook's, the net
    has no input shape: its weights are created by its first call (4 inputs for CartPole).
    ``revision="older"``: the older revision's net, ``Dense(5, elu)`` on 4 inputs (built at once).
    """
    if seed is not None:
        set_seeds(seed)
    if revision == "older":
        return tf.keras.Sequential([
            tf.keras.layers.Dense(5, activation="elu", input_shape=list(CARTPOLE_OBS_SHAPE)),
            tf.keras.layers.Dense(1, activation="sigmoid"),
        ])
    return tf.keras.Sequential([
        tf.keras.layers.Dense(5, activation="relu"),
        tf.keras.layers.Dense(1, activation="sigmoid"),
    ])


def pg_policy(obs, model):
    """The notebook's ``pg_policy``: go right when ``np.random.rand() > p(left)``.

    The notebook reads its global ``model`` and calls ``model.predict`` (~40 ms a
    call); here the model is passed in and called eagerly, which gives this net
    the same bits as ``predict`` (tested) ten times faster. Use
    ``functools.partial(pg_policy, model=model)`` where a one-argument policy is needed.
    """
    obs = check_observation(obs, model)
    left_proba = model(obs[np.newaxis]).numpy()[0][0]
    return int(np.random.rand() > left_proba)


# --- "learn the basic policy with 50 parallel environments" (2nd edition) -----

@dataclass(frozen=True)
class ImitationConfig:
    """Hyper-parameters of the 2nd edition's imitation cell ("Neural Network Policies")."""
    n_environments: int = 50
    """CartPole environments played in parallel, one batch row each"""
    n_iterations: int = 5000
    """training steps; the notebook uses 5000"""
    seed: int = 42
    """seeds the net, then ``np.random`` (actions) as in the cell; env ``i`` is reset with seed ``i``"""

    def __post_init__(self):
        for name in ("n_environments", "n_iterations"):
            check_positive_int(name, getattr(self, name))


def basic_policy_states(n_episodes=10, n_max_steps=200):
    """The observations ``basic_policy`` visits in the notebook's evaluation loop
    (``reset(seed=episode)``), its first ``n_episodes`` episodes."""
    env = make_env("CartPole-v1", render_mode=None)
    states = []
    for episode in range(n_episodes):
        obs, info = env.reset(seed=episode)
        for step in range(n_max_steps):
            states.append(obs)
            obs, reward, done, truncated, info = env.step(basic_policy(obs))
            if done or truncated:
                break
    env.close()
    return np.array(states, np.float32)


def basic_policy_agreement(model, observations=None):
    """Fraction of ``observations`` (default: :func:`basic_policy_states`) where the net's
    likelier action is ``basic_policy``'s."""
    observations = basic_policy_states() if observations is None else observations
    observations = np.asarray(observations, np.float32)
    left_probas = model(observations).numpy()[:, 0]
    net_actions = (left_probas < 0.5).astype(int)  # go right when p(left) < 0.5
    basic_actions = np.array([basic_policy(obs) for obs in observations])
    return float(np.mean(net_actions == basic_actions))


def train_to_imitate_basic_policy(model=None, n_environments=50, n_iterations=5000, seed=42,
                                  progress=True):
    """The cell "learn the basic policy with 50 parallel environments", on Gymnasium.

    Mirrors the 2nd edition's cell: the target is p(left) = 1 when the pole leans
    left (``obs[2] < 0``), else 0; one eager ``GradientTape`` step of RMSprop on
    ``binary_crossentropy`` over the 50 current observations, then every
    environment steps with ``np.random.rand() > p(left)`` and is reset when its
    episode ends. Departs from it in the Gymnasium API (``env.seed(i)`` becomes
    the first ``reset(seed=i)``; an episode also ends when it is truncated) and
    in using the 3rd edition's net (ReLU) built by :func:`policy_net` (the cell's
    ``set_seed(42); np.random.seed(42)`` before it is :func:`set_seeds`).

    Returns ``(model, history)``: ``history`` holds the ``loss`` of each
    iteration and ``agreement``, the fraction of the states ``basic_policy``
    visits (:func:`basic_policy_states`) where the net's likelier action is
    ``basic_policy``'s: how far the net reproduces it.
    """
    config = ImitationConfig(n_environments, n_iterations, seed)
    model = model if model is not None else policy_net(seed)
    envs = [make_env("CartPole-v1", render_mode=None) for _ in range(config.n_environments)]
    check_discrete_actions(envs[0])
    np.random.seed(config.seed)
    observations = [env.reset(seed=index)[0] for index, env in enumerate(envs)]
    check_observation(observations[0], model, "CartPole-v1")
    optimizer = tf.keras.optimizers.RMSprop()
    loss_fn = tf.keras.losses.binary_crossentropy
    losses = []
    bar = progress_bar(range(config.n_iterations), desc="imitation", progress=progress)
    for iteration in bar:
        # if angle < 0, we want proba(left) = 1., or else proba(left) = 0.
        target_probas = np.array([([1.] if obs[2] < 0 else [0.]) for obs in observations])
        with tf.GradientTape() as tape:
            left_probas = model(np.array(observations))
            loss = tf.reduce_mean(loss_fn(target_probas, left_probas))
        losses.append(float(loss))
        if iteration % 50 == 0:
            bar.set_postfix(loss=f"{losses[-1]:.3f}")
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
        actions = (np.random.rand(config.n_environments, 1) > left_probas.numpy()).astype(np.int32)
        for env_index, env in enumerate(envs):
            obs, reward, done, truncated, info = env.step(actions[env_index][0])
            observations[env_index] = obs if not (done or truncated) else env.reset()[0]
    for env in envs:
        env.close()
    return model, {"loss": losses, "agreement": basic_policy_agreement(model)}
