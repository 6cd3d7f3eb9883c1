"""Sections "Deep Q-Network", "Fixed Q-Value Targets", "Double DQN" and "Dueling Double DQN".

The notebook's cells, read top to bottom: the Q-network, ``epsilon_greedy_policy``,
``play_one_step``, ``training_step`` and the 600-episode training loop. The notebook's
globals (``model``, ``target``, ``optimizer``, ``loss_fn``, ``replay_buffer``,
``n_outputs``, ``discount_factor``, ``batch_size``) are the fields of one small object,
:class:`DQN`, and its functions are that object's methods, with the notebook's names
and signatures. The four variants differ in one method, :meth:`DQN.max_next_Q_values`
(the lines the notebook marks ``# <= CHANGED``), and in the model builder::

    rewards, model = train_dqn("double_dqn")           # 600 episodes, seed 42

**Same numbers as the notebook.** At the same seed, on the pinned stack, the default
path draws the same random numbers in the same order and computes the same Q-values as
the notebook's cells (with ``tf.random.set_seed(s)`` read as
``tf.keras.utils.set_random_seed(s)``, which also seeds Python's and NumPy's generators),
so it returns the same per-episode rewards list. Only who computes the forward passes can
be chosen: ``engine="notebook"`` calls ``model.predict`` at every step, as the cells do
(half an hour a run), and ``engine="fast"`` (the default) gets the same Q-values in
seconds; both are in :mod:`homl_rl.engines.dqn`, which says why their numbers agree.
The training step's forward pass and gradient run eagerly, as in the notebook, with both;
the engine applies the optimizer's update (the fast one a plain ``Nadam``'s in NumPy, with
the same bits as Keras' eager step: see :mod:`homl_rl.engines.dqn`).

``rewards`` records, as the notebook does, ``step``: the 0-based index of each episode's
last step, one less than the episode's sum of rewards (a 200-step episode records 199).
"""

from collections import deque
from dataclasses import dataclass, fields, replace

import numpy as np

from homl_rl.checks import (  # noqa: F401  (REVISIONS: the revisions whose DQN cells run)
    REVISIONS, check_discrete_actions, check_non_negative_int, check_positive_int,
    check_positive_number, check_revision, check_unit_interval)
from homl_rl.engines.dqn import make_dqn_engine, remember_dueling_layers
from homl_rl.environments import SeedNextReset, make_env
from homl_rl.history import TrainingHistory
from homl_rl.keras_choices import (
    check_loss_name, check_optimizer_name, make_loss_fn, make_optimizer)
from homl_rl.per_step_dqn import (
    PRESETS, PerStepDQN, PerStepDQNConfig, build_per_step_q_network, train_per_step_dqn)
from homl_rl.progress import progress_bar
from homl_rl.replay_buffers import NumpyReplayBuffer, sample_experiences
from homl_rl.seeding import set_seeds
from homl_rl.tf_setup import tf
from homl_rl.variants import CHAPTER_VARIANTS, RowsView, variant_named

# --- hyper-parameters ------------------------------------------------------------------


@dataclass(frozen=True)
class DQNConfig:
    """Hyper-parameters of the notebook's DQN training cells (all four variants)."""
    n_episodes: int = 600
    """episodes to play; the notebook plays 600"""
    n_max_steps: int = 200
    """steps per episode before the loop gives up on it (CartPole-v1 itself truncates at 500)"""
    batch_size: int = 32
    """experiences sampled for each training step"""
    discount_factor: float = 0.95
    """gamma in the target ``reward + gamma * max_a' Q(s', a')``"""
    learning_rate: float = None
    """the optimizer's learning rate; ``None``: the variant's (Nadam's 1e-2, 5e-3 for the dueling one)"""
    optimizer: str = "nadam"
    """the optimizer, by Keras name (the notebook's ``Nadam``; ``"adam"``, ``"rmsprop"``, ...)"""
    loss: str = "mse"
    """the training step's ``loss_fn``: ``"mse"`` (``mean_squared_error``, the notebook's) or
    ``"huber"`` (``tf.keras.losses.Huber()``)"""
    replay_buffer_size: int = 2000
    """``deque(maxlen=2000)``"""
    epsilon_decay_episodes: int = 500
    """epsilon = max(1 - episode / 500, 0.01): linear decay over this many episodes"""
    min_epsilon: float = 0.01
    """epsilon's floor"""
    training_starts_after: int = 50
    """one training step at the end of every episode > 50"""
    target_update_period: int = 50
    """hard update: copy the online weights to the target every 50 episodes"""
    soft_target_update: float = None
    """``tau``: instead of the hard copy, ``target = (1 - tau) * target + tau * online`` after
    every training step (the notebook's commented-out alternative uses 0.01); ``None``: hard copy"""
    replay_buffer: str = "deque"
    """``"deque"`` (the notebook's) or ``"numpy"`` (:class:`NumpyReplayBuffer`): same batches"""
    revision: str = "current"
    """whose cells the run follows: ``"current"`` (the notebook's) or ``"older"`` (the older
    revision's set-up and experiences: see :data:`OLDER_REVISION`)"""
    seed: int = 42
    """the cells' seed: their ``tf.random.set_seed(42)`` and ``np.random.seed(42)`` (read as
    ``set_seeds``) and ``env.reset(seed=42)``"""

    def __post_init__(self):
        for name in ("n_episodes", "n_max_steps", "batch_size", "replay_buffer_size",
                     "epsilon_decay_episodes", "target_update_period"):
            check_positive_int(name, getattr(self, name))
        check_non_negative_int("training_starts_after", self.training_starts_after)
        check_non_negative_int("seed", self.seed)
        check_unit_interval("discount_factor", self.discount_factor)
        check_unit_interval("min_epsilon", self.min_epsilon)
        if self.learning_rate is not None:
            check_positive_number("learning_rate", self.learning_rate)
        if self.soft_target_update is not None:
            check_unit_interval("soft_target_update", self.soft_target_update, zero=False)
        if self.replay_buffer not in ("deque", "numpy"):
            raise ValueError(f"replay_buffer must be 'deque' or 'numpy', got {self.replay_buffer!r}")
        check_optimizer_name(self.optimizer)
        check_loss_name(self.loss)
        check_revision(self.revision)
        if self.revision == "older" and self.replay_buffer != "deque":
            raise ValueError("the older revision's five-field experiences go in a deque: "
                             "use replay_buffer='deque' with revision='older'")

    def epsilon(self, episode):
        """The notebook's ``max(1 - episode / 500, 0.01)``."""
        return max(1 - episode / self.epsilon_decay_episodes, self.min_epsilon)


# --- the Q-networks --------------------------------------------------------------------

def build_q_network(input_shape=(4,), n_outputs=2):
    """The notebook's DQN: Dense(32, elu), Dense(32, elu), Dense(n_outputs).

    Built as in the cell (a ``Sequential`` whose first layer gets ``input_shape``); its
    initial weights depend on the seed set just before (see :func:`train_dqn`).
    """
    return tf.keras.Sequential([
        tf.keras.layers.Dense(32, activation="elu", input_shape=list(input_shape)),
        tf.keras.layers.Dense(32, activation="elu"),
        tf.keras.layers.Dense(n_outputs)
    ])


def build_dueling_q_network(input_shape=(4,), n_outputs=2):
    """The notebook's dueling DQN: Q = V + (A - max A), as in the "Dueling Double DQN" cell."""
    input_states = tf.keras.layers.Input(shape=list(input_shape))
    hidden1 = tf.keras.layers.Dense(32, activation="elu")
    hidden2 = tf.keras.layers.Dense(32, activation="elu")
    state_value_layer = tf.keras.layers.Dense(1)
    advantage_layer = tf.keras.layers.Dense(n_outputs)
    hidden = hidden2(hidden1(input_states))
    state_values = state_value_layer(hidden)
    raw_advantages = advantage_layer(hidden)
    advantages = raw_advantages - tf.reduce_max(raw_advantages, axis=1,
                                                keepdims=True)
    Q_values = state_values + advantages
    model = tf.keras.Model(inputs=[input_states], outputs=[Q_values])
    remember_dueling_layers(model, hidden1, hidden2, state_value_layer, advantage_layer)
    return model


# --- the agents: the notebook's globals and functions ----------------------------------

@dataclass(eq=False)
class DQN:
    """Section "Deep Q-Network": the notebook's globals as fields, its functions as methods.

    ``max_next_Q_values`` holds the one computation the variants change; the other methods
    are the cells' code, line for line. ``engine`` (not a notebook global) says who computes
    the forward passes outside the gradient tape.
    """
    model: object
    optimizer: object
    loss_fn: object = None
    """``tf.keras.losses.mean_squared_error`` when ``None``"""
    replay_buffer: object = None
    """``deque(maxlen=2000)`` when ``None``"""
    n_outputs: int = 2
    discount_factor: float = 0.95
    batch_size: int = 32
    target: object = None
    """the target network (fixed Q-value targets and later)"""
    engine: object = None
    """``"notebook"``, ``"fast"`` (:mod:`homl_rl.engines.dqn`) or an engine; ``None``: the default"""
    five_field_experiences: bool = False
    """record the older revision's ``(state, action, reward, next_state, done)``, its ``done``
    being the old API's (the episode ended or was truncated)"""

    def __post_init__(self):
        if self.loss_fn is None:
            self.loss_fn = tf.keras.losses.mean_squared_error
        if self.replay_buffer is None:
            self.replay_buffer = deque(maxlen=2000)
        self.engine = make_dqn_engine(self.engine)
        try:
            self._state_shape = tuple(self.model.input_shape[1:])
        except (AttributeError, ValueError):  # a model not built yet: no shape to check
            self._state_shape = None

    def epsilon_greedy_policy(self, state, epsilon=0):
        """The notebook's: ``np.random.rand() < epsilon`` -> ``np.random.randint(n_outputs)``,
        else the DQN's best action. Departs only in checking ``epsilon`` and ``state``'s shape."""
        check_unit_interval("epsilon", epsilon)
        if self._state_shape is not None and np.shape(state) != self._state_shape:
            raise ValueError(f"state has shape {np.shape(state)}, but the Q-network takes "
                             f"states of shape {self._state_shape}")
        if np.random.rand() < epsilon:
            return np.random.randint(self.n_outputs)  # random action
        else:
            # optimal action according to the DQN
            return self.engine.greedy_action(self.model, state)

    def play_one_step(self, env, state, epsilon):
        """The notebook's: act, step, append ``(state, action, reward, next_state, done, truncated)``
        (the older revision's five fields with ``five_field_experiences``)."""
        action = self.epsilon_greedy_policy(state, epsilon)
        next_state, reward, done, truncated, info = env.step(action)
        if self.five_field_experiences:
            self.replay_buffer.append((state, action, reward, next_state, done or truncated))
        else:
            self.replay_buffer.append((state, action, reward, next_state, done, truncated))
        return next_state, reward, done, truncated, info

    def sample_experiences(self, batch_size):
        """``states, actions, rewards, next_states, dones, truncateds``: the notebook's draw.

        The notebook's deque goes through the notebook's function; any other buffer samples
        itself (``replay_buffer.sample(batch_size)``, :mod:`homl_rl.replay_buffers`).
        """
        if isinstance(self.replay_buffer, deque):
            return sample_experiences(self.replay_buffer, batch_size)
        return self.replay_buffer.sample(batch_size)

    def predict(self, model, inputs):
        """``model.predict(inputs, verbose=0)``, as the engine computes it."""
        return self.engine.predict(model, inputs)

    def apply_gradients(self, grads_and_vars):
        """``optimizer.apply_gradients(grads_and_vars)``, as the engine computes it (an engine
        of one's own without ``apply_gradients``: the optimizer's own)."""
        apply_gradients = getattr(self.engine, "apply_gradients", None)
        if apply_gradients is None:
            return self.optimizer.apply_gradients(grads_and_vars)
        return apply_gradients(self.optimizer, grads_and_vars)

    def max_next_Q_values(self, next_states):
        """Plain DQN: the online network's best Q-value at the next state."""
        next_Q_values = self.predict(self.model, next_states)
        return next_Q_values.max(axis=1)

    def training_step(self, batch_size):
        """The notebook's ``training_step``; returns the loss (the notebook returns nothing)."""
        experiences = self.sample_experiences(batch_size)
        if self.five_field_experiences:  # the older revision's cell
            states, actions, rewards, next_states, dones = experiences
            runs = 1 - dones
        else:
            states, actions, rewards, next_states, dones, truncateds = experiences
            runs = 1.0 - (dones | truncateds)  # episode is not done or truncated
        max_next_Q_values = self.max_next_Q_values(next_states)
        target_Q_values = rewards + runs * self.discount_factor * max_next_Q_values
        target_Q_values = target_Q_values.reshape(-1, 1)
        mask = tf.one_hot(actions, self.n_outputs)
        with tf.GradientTape() as tape:
            all_Q_values = self.model(states)
            Q_values = tf.reduce_sum(all_Q_values * mask, axis=1, keepdims=True)
            loss = tf.reduce_mean(self.loss_fn(target_Q_values, Q_values))

        grads = tape.gradient(loss, self.model.trainable_variables)
        self.apply_gradients(zip(grads, self.model.trainable_variables))
        self.engine.weights_changed(self.model)
        return loss

    def set_weights(self, weights):
        """``model.set_weights(weights)``, telling the engine."""
        self.model.set_weights(weights)
        self.engine.weights_changed(self.model)


@dataclass(eq=False)
class FixedQTargetsDQN(DQN):
    """Section "Fixed Q-Value Targets": the target network gives the next-state values."""

    def __post_init__(self):
        super().__post_init__()
        if self.target is None:
            raise ValueError(f"{type(self).__name__} needs a target network")

    def max_next_Q_values(self, next_states):
        next_Q_values = self.predict(self.target, next_states)  # <= CHANGED
        return next_Q_values.max(axis=1)


@dataclass(eq=False)
class DoubleDQN(FixedQTargetsDQN):
    """Section "Double DQN": the online network picks the next action, the target evaluates it.

    Also the "Dueling Double DQN" agent (only the model differs).
    """

    def max_next_Q_values(self, next_states):
        #################### CHANGED SECTION ####################
        next_Q_values = self.predict(self.model, next_states)  # ≠ target.predict()
        best_next_actions = next_Q_values.argmax(axis=1)
        next_mask = tf.one_hot(best_next_actions, self.n_outputs).numpy()
        max_next_Q_values = (self.predict(self.target, next_states) * next_mask
                             ).sum(axis=1)
        #########################################################
        return max_next_Q_values


# --- the variants --------------------------------------------------------------------------

def agent_class(variant):
    """The agent class a chapter row of :data:`homl_rl.variants.VARIANTS` (or its name)
    describes: :class:`DoubleDQN` for Double DQN, :class:`FixedQTargetsDQN` with a target
    network, :class:`DQN` without one; :class:`~homl_rl.per_step_dqn.PerStepDQN` for a
    per-step row."""
    row = variant_named(variant) if isinstance(variant, str) else variant
    if row.per_step:
        return PerStepDQN
    if row.double_dqn:
        return DoubleDQN
    return FixedQTargetsDQN if row.target_network else DQN


def q_network_builder(variant):
    """``build_model(input_shape, n_outputs)``: the Q-network of a row of
    :data:`homl_rl.variants.VARIANTS` (or its name): the dueling one or the plain one (a
    per-step row's: its preset's)."""
    row = variant_named(variant) if isinstance(variant, str) else variant
    if row.per_step:
        preset = PRESETS[row.name]

        def build_model(input_shape, n_outputs):
            return build_per_step_q_network(input_shape, n_outputs, preset)
        build_model.__name__ = build_model.__qualname__ = f"build_{row.name}_q_network"
        return build_model
    return build_dueling_q_network if row.dueling else build_q_network


OLDER_REVISION = RowsView(lambda row: not row.per_step and row.older_revision is not None,
                          lambda row: row.older_revision)
"""The older revision of the notebook's DQN cells, as :class:`DQNConfig` settings per variant
(the rows' :attr:`~homl_rl.variants.Variant.older_revision`; ``train_dqn(variant, revision="older")``; it has no fixed-Q-targets variant). What the
older revision changes, all of it:

- the optimizer and loss: ``Adam(1e-2)`` with ``mean_squared_error`` for the DQN,
  ``Adam(6e-3)`` with ``Huber()`` for the Double DQN, ``Adam(7.5e-3)`` with ``Huber()`` for
  the Dueling Double DQN (the current revision: ``Nadam``, MSE, 1e-2 or 5e-3);
- training from ``episode > 50`` for the DQN but ``episode >= 50`` for the other two
  (``training_starts_after=49``), whose target is then copied at episode 50 already (the
  current revision: ``episode > 50`` everywhere, first copy at episode 100);
- experiences of five fields, ``(state, action, reward, next_state, done)``, with the old
  gym API's ``done`` (the episode ended or was truncated: the same targets here, as the
  200-step loop ends before CartPole-v1 truncates at 500), and ``1 - dones`` in the target;
- ``tf.keras.backend.clear_session()`` before each model is built;
- the old API's seeding: ``env.seed(42)`` then ``obs = env.reset()`` at each episode, i.e.
  the first episode's reset is ``reset(seed=42)`` (:class:`~homl_rl.environments.SeedNextReset`;
  the current revision resets once with the seed before the loop, then unseeded), and the old
  4-tuple ``step`` read as Gymnasium's 5-tuple.

The rest is the same: the networks, ``epsilon = max(1 - episode / 500, 0.01)``, batch 32,
``discount_rate = 0.95``, ``deque(maxlen=2000)``, 600 episodes of at most 200 steps, the
target copied every 50 episodes, the best weights restored, the seeds (``tf.random.set_seed``
and ``np.random.seed``, read as :func:`~homl_rl.seeding.set_seeds`).
"""


def revision_settings(variant, revision="current"):
    """The :class:`DQNConfig` settings of ``variant`` in ``revision`` (none for the current one),
    or a ``ValueError`` for a variant that revision does not have."""
    if check_revision(revision) == "current":
        return {}
    if variant not in OLDER_REVISION:
        raise ValueError(f"the older revision has no {variant!r} variant; it has "
                         f"{', '.join(map(repr, OLDER_REVISION))}")
    return dict(OLDER_REVISION[variant], revision="older")


def clone_target(model):
    """The target DQN: ``clone_model`` (the architecture) then ``set_weights`` (the weights)."""
    target = tf.keras.models.clone_model(model)  # clone the model's architecture
    target.set_weights(model.get_weights())  # copy the weights
    return target


def soft_update(target, model, tau=0.01):
    """The notebook's commented-out alternative: ``target = 0.99 * target + 0.01 * online``."""
    target_weights = target.get_weights()
    online_weights = model.get_weights()
    for index, online_weight in enumerate(online_weights):
        target_weights[index] = ((1 - tau) * target_weights[index]
                                 + tau * online_weight)
    target.set_weights(target_weights)


# --- the training loop -----------------------------------------------------------------

def train(agent, env, config=DQNConfig(), progress=True, desc="DQN", max_env_steps=None,
          callback=None):
    """The notebook's training loop; returns a :class:`~homl_rl.history.TrainingHistory`
    (``config`` and its ``seed`` in it).

    The notebook appends ``step`` to ``rewards`` after each episode: the 0-based index of
    the episode's last step (an episode of 200 steps records 199); that list is
    ``history.last_steps``, and ``history.episode_rewards`` the episodes' sums of rewards. The
    best weights (highest ``step``, latest among ties) are restored at the end; each training
    step's loss goes to ``history.losses``. Departures: the fixed-target, double and dueling
    cells unpack ``obs, reward, done, info, truncated = play_one_step(...)`` (two names
    swapped), so their ``if done or truncated`` never sees a truncation; we unpack as the DQN
    cell does. Identical here: the loop stops at 200 steps, before CartPole-v1 truncates (500).

    Not in the notebook: ``max_env_steps`` ends the run once that many environment steps
    were played in all (cutting the last episode short; it still gets its training step),
    and ``callback(episode, env_steps)`` is called after each episode's training step and
    target update, with the environment steps played so far (e.g. to evaluate the agent).
    """
    if max_env_steps is not None:
        check_positive_int("max_env_steps", max_env_steps)
    history = TrainingHistory(config=config)
    best_score = 0
    env_steps = 0
    bar = progress_bar(range(config.n_episodes), desc=desc, progress=progress, unit="episode")
    for episode in bar:
        obs, info = env.reset()
        episode_reward = 0.0
        for step in range(config.n_max_steps):
            epsilon = config.epsilon(episode)
            obs, reward, done, truncated, info = agent.play_one_step(env, obs, epsilon)
            episode_reward += reward
            env_steps += 1
            if done or truncated or env_steps == max_env_steps:
                break

        # the notebook prints f"\rEpisode: {episode + 1}, Steps: {step + 1}, eps: {epsilon:.3f}"
        if bar.disable is False:
            bar.set_postfix(steps=step + 1, eps=f"{epsilon:.3f}", refresh=False)
        history.episode_rewards.append(float(episode_reward))
        history.episode_lengths.append(step + 1)  # the notebook's rewards.append(step)
        if step >= best_score:
            best_weights = agent.model.get_weights()
            best_score = step

        loss = train_after_episode(agent, episode, config)
        if loss is not None:
            history.losses.append(float(loss))
        if callback is not None:
            callback(episode, env_steps)
        if env_steps == max_env_steps:
            break

    agent.set_weights(best_weights)  # restores the best model weights
    history.n_steps = env_steps
    return history


def train_after_episode(agent, episode, config=DQNConfig()):
    """The end of an episode in the notebook's loop: past the 50th episode, one training
    step, then the target network's update (copied every 50 episodes, or soft-updated).
    Returns the training step's loss (``None``: no training step yet)."""
    if episode > config.training_starts_after:
        loss = agent.training_step(config.batch_size)
        if agent.target is not None:
            if config.soft_target_update is not None:
                soft_update(agent.target, agent.model, config.soft_target_update)
            elif episode % config.target_update_period == 0:
                agent.target.set_weights(agent.model.get_weights())
        return loss
    return None


def _check_env(env):
    n_outputs = check_discrete_actions(env)
    shape = env.observation_space.shape
    if shape is None or len(shape) != 1:
        raise ValueError(f"the Q-network takes a flat observation vector, but this environment's "
                         f"observations have shape {shape}")
    return shape, n_outputs


def make_agent(variant, env, config=DQNConfig(), engine=None):
    """The notebook's set-up cells for ``variant``: seed, model, target, then reseed, with
    ``seed = config.seed``.

    Order: ``set_seeds(seed)``, build the model, clone the target; ``env.reset(seed=seed)``,
    ``np.random.seed(seed)``, ``set_seeds(seed)``; then the optimizer and an empty replay
    buffer — the cells' order (the dueling cell creates its optimizer before the target,
    which draws no random number). The notebook's dueling cell does not reseed before
    training (it continues the random state of the cells before it); we do, as for the
    other variants.

    With ``config.revision == "older"``: ``clear_session()`` first, and ``env.seed(seed)``
    in place of ``env.reset(seed=seed)`` (``env`` must be a
    :class:`~homl_rl.environments.SeedNextReset`), as its cells do.
    """
    spec = variant_named(variant, CHAPTER_VARIANTS)
    input_shape, n_outputs = _check_env(env)
    older = config.revision == "older"
    if older and not isinstance(env, SeedNextReset):
        raise ValueError("the older revision seeds the environment with the old API's "
                         "env.seed(): pass SeedNextReset(env)")
    if older:
        tf.keras.backend.clear_session()
    seed = config.seed
    set_seeds(seed)  # the notebook's tf.random.set_seed(42), read as set_random_seed
    model = q_network_builder(spec)(input_shape, n_outputs)
    target = clone_target(model) if spec.target_network else None

    if older:
        env.seed(seed)  # the next reset is reset(seed=seed)
    else:
        env.reset(seed=seed)
    np.random.seed(seed)
    set_seeds(seed)
    learning_rate = config.learning_rate or spec.learning_rate
    optimizer = make_optimizer(config.optimizer, learning_rate)
    loss_fn = make_loss_fn(config.loss)
    if config.replay_buffer == "numpy":
        replay_buffer = NumpyReplayBuffer(config.replay_buffer_size)
    else:
        replay_buffer = deque(maxlen=config.replay_buffer_size)  # resets the replay buffer
    return agent_class(spec)(model=model, optimizer=optimizer, loss_fn=loss_fn,
                           replay_buffer=replay_buffer, n_outputs=n_outputs,
                           discount_factor=config.discount_factor,
                           batch_size=config.batch_size, target=target, engine=engine,
                           five_field_experiences=older)


def train_dqn(variant="dqn", n_episodes=None, *, engine=None, progress=True, env=None,
              return_agent=False, revision="current", config=None, **hyperparameters):
    """Train one of the chapter's DQN variants as its notebook cells do; returns
    ``(history, model)``: a :class:`~homl_rl.history.TrainingHistory` (episode rewards and
    lengths, losses, the config with its seed) and the model, its best weights restored.
    With ``return_agent=True``, ``(history, agent)`` (the model is ``agent.model``).

    ``variant``: ``"dqn"``, ``"fixed_q_targets"``, ``"double_dqn"`` or
    ``"dueling_double_dqn"`` — or a per-step row of :data:`homl_rl.variants.VARIANTS` (e.g.
    ``"keras_rl_dqn"``), trained by :func:`homl_rl.per_step_dqn.train_per_step` on the row's
    environment for at most ``n_episodes`` episodes and ``n_steps`` steps (a hyper-parameter;
    default: the row's), its ``hyperparameters`` being :class:`PerStepDQNConfig` fields.
    ``hyperparameters``: any :class:`DQNConfig` field (``n_max_steps``, ``batch_size``,
    ``learning_rate``, ``soft_target_update``, ``seed``: the config's, 42 by default, ...).
    ``engine``: ``"notebook"`` (``model.predict`` per step, as the cells), ``"fast"``, or
    ``None`` (the default, ``"fast"``: same numbers). ``env``: CartPole-v1 by default.
    ``revision="older"`` runs the older revision's cells instead (:data:`OLDER_REVISION`
    lists what that changes; ``hyperparameters`` still override its settings). ``n_episodes``:
    the config's (600) by default. ``config``: a chapter variant's :class:`DQNConfig` built
    already (:func:`dqn_config`, as the command line does), trained as it is; ``n_episodes``,
    ``revision`` and ``hyperparameters`` are then not given::

        history, model = train_dqn("double_dqn", revision="older")   # Adam 6e-3, Huber, ...
        history.last_steps   # the notebook's `rewards`: each episode's last step index

    The dueling variant reseeds (``env.reset(seed=42)``, ``np.random.seed(42)``,
    ``tf.keras.utils.set_random_seed(42)``) before training as the other variants do; the
    notebook's cell does not. It trains with the Double-DQN target, as in the notebook.
    """
    spec = variant_named(variant)
    if spec.per_step:
        if revision != "current":
            raise ValueError(f"revision={revision!r} is for the chapter's variants, "
                             f"not {variant!r}")
        if config is not None:
            raise ValueError(f"a DQNConfig is for the chapter's variants, not {variant!r} "
                             f"(its hyper-parameters are PerStepDQNConfig fields)")
        return _train_per_step_variant(
            spec, DQNConfig.n_episodes if n_episodes is None else n_episodes,
            seed=hyperparameters.pop("seed", DQNConfig.seed), progress=progress, env=env,
            return_agent=return_agent, **hyperparameters)
    if config is None:
        config = dqn_config(variant, DQNConfig.n_episodes if n_episodes is None else n_episodes,
                            revision, **hyperparameters)
    elif n_episodes is not None or revision != "current" or hyperparameters:
        raise TypeError("train_dqn takes either a config or n_episodes, revision and "
                        "hyper-parameters, not both")
    elif not isinstance(config, DQNConfig):
        raise TypeError(f"config must be a DQNConfig, got {type(config).__name__}")
    if not spec.target_network and config.soft_target_update is not None:
        with_target = [repr(name) for name, row in CHAPTER_VARIANTS.items() if row.target_network]
        raise ValueError(f"soft_target_update needs a target network: use it with "
                         f"{', '.join(with_target[:-1])} or {with_target[-1]}")
    own_env = env is None
    env = make_env("CartPole-v1", render_mode=None) if own_env else env
    if config.revision == "older" and not isinstance(env, SeedNextReset):
        env = SeedNextReset(env)
    try:
        agent = make_agent(variant, env, config, engine=engine)
        history = train(agent, env, config, progress=progress, desc=variant)
    finally:
        if own_env:
            env.close()
    return (history, agent) if return_agent else (history, agent.model)


def dqn_config(variant="dqn", n_episodes=DQNConfig.n_episodes, revision="current",
               **hyperparameters):
    """The :class:`DQNConfig` :func:`train_dqn` runs ``variant`` with: ``revision``'s settings
    (:data:`OLDER_REVISION` for ``"older"``), then ``hyperparameters`` (any field but
    ``revision``; a ``TypeError`` names the unknown ones)."""
    valid = {field.name for field in fields(DQNConfig)} - {"revision", "n_episodes"}
    unknown = sorted(set(hyperparameters) - valid)
    if unknown:
        raise TypeError(f"unknown hyper-parameter(s) {', '.join(unknown)}; "
                        f"valid: {', '.join(sorted(valid))}")
    return DQNConfig(n_episodes=n_episodes,
                     **{**revision_settings(variant, revision), **hyperparameters})


def _train_per_step_variant(spec, n_episodes, *, seed, progress, env, return_agent,
                            n_steps=None, **hyperparameters):
    """``train_dqn`` of a per-step row: ``(history, model)`` (or the agent)."""
    valid = {field.name for field in fields(PerStepDQNConfig)}
    unknown = sorted(set(hyperparameters) - valid)
    if unknown:
        raise TypeError(f"unknown hyper-parameter(s) {', '.join(unknown)}; "
                        f"valid: n_steps, {', '.join(sorted(valid))}")
    config = replace(PRESETS[spec.name], seed=seed, **hyperparameters)
    history, agent = train_per_step_dqn(
        config, spec.env_id, n_steps=spec.n_steps if n_steps is None else n_steps,
        n_episodes=n_episodes, progress=progress, env=env)
    return (history, agent) if return_agent else (history, agent.model)
