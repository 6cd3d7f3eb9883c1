"""Exercise 9: a Keras Double Dueling DQN for Atari Breakout.

The notebook leaves this exercise as "TODO"; its text asks for grayscale, cropped,
downsampled observations, consecutive frames merged into each state, a mostly
convolutional network and Double Dueling DQN. The preprocessing is the shared one of
:mod:`homl_rl.atari` (:func:`~homl_rl.atari.make_breakout_env`: 84x84 grayscale, 4
stacked frames, FIRE to start and after a lost life); the replay buffer is
:class:`homl_rl.replay_buffers.FrameReplayBuffer` (each frame stored once). This module adds:

- :func:`build_dueling_conv_q_network`: ``/255``, conv 32 8x8/4, 64 4x4/2, 64 3x3/1,
  dense 512, dueling head ``V + A - max A`` (Keras functional API);
- :func:`double_dqn_targets`: the notebook's Double-DQN target, as tensors;
- :func:`train_breakout`: the step-based training (compiled acting and training, Huber
  loss, clipped rewards, linear epsilon, a training step every 4 env steps, hard or soft
  target updates, fixed-seed evaluations keeping the best weights) with atomic one-file
  checkpoints (:func:`save_checkpoint`) that a resumed run continues exactly; its loop is
  the per-step DQN's, :func:`homl_rl.per_step_dqn.train_per_step`, with Breakout's hooks
  (:class:`BreakoutSteps`);
- :func:`load_agent` and :func:`record_breakout_episode` (``breakout play``), and the figures
  ``breakout_training_plot`` and ``breakout`` (a 5,000-step run, ``breakout_short`` in :data:`homl_rl.runs.RUNS`).

    state, agent, best_weights = train_breakout(BreakoutConfig(n_steps=50_000), "runs/b")
"""

from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from homl_rl.atari import AtariConfig, make_breakout_env
from homl_rl.checkpoints import (
    CHECKPOINT_NAME, CheckpointError, CtrlC, pack_weights, read_checkpoint, unpack_weights,
    write_checkpoint)
from homl_rl.checks import (
    check_non_negative_int, check_positive_int, check_positive_number, check_unit_interval)
from homl_rl.dqn import clone_target
from homl_rl.per_step_dqn import train_per_step
from homl_rl.progress import progress_bar
from homl_rl.replay_buffers import FrameReplayBuffer
from homl_rl.seeding import set_seeds
from homl_rl.summaries import summaries
from homl_rl.tf_setup import tf


# --- the model and the Double-DQN target ----------------------------------------------

def build_dueling_conv_q_network(input_shape=(84, 84, 4), n_outputs=4):
    """The Nature-DQN convolutions with a dueling head: Q = V + (A - max A).

    Takes ``uint8`` (or float) frames in [0, 255] and scales them by 1/255 itself, so the
    replay buffer and the environment hand over raw frames.
    """
    layers = tf.keras.layers
    input_states = layers.Input(shape=list(input_shape))
    x = layers.Rescaling(1 / 255)(input_states)
    x = layers.Conv2D(32, 8, strides=4, activation="relu")(x)
    x = layers.Conv2D(64, 4, strides=2, activation="relu")(x)
    x = layers.Conv2D(64, 3, strides=1, activation="relu")(x)
    hidden = layers.Dense(512, activation="relu")(layers.Flatten()(x))
    state_values = layers.Dense(1, name="state_value")(hidden)
    raw_advantages = layers.Dense(n_outputs, name="raw_advantages")(hidden)
    advantages = raw_advantages - tf.reduce_max(raw_advantages, axis=1, keepdims=True)
    Q_values = state_values + advantages
    return tf.keras.Model(inputs=[input_states], outputs=[Q_values])


def double_dqn_targets(rewards, dones, next_Q_online, next_Q_target, discount_factor):
    """The notebook's Double-DQN target: the online net picks a', the target net rates it.

    ``rewards + (1 - dones) * discount_factor * Q_target(s', argmax_a' Q_online(s', a'))``.
    ``dones`` are terminations only: a time-limit truncation still bootstraps (the
    notebook's cells stop bootstrapping at truncations too; on Breakout's 27,000-step
    limit it makes no difference in practice).
    """
    next_Q_online = tf.convert_to_tensor(next_Q_online, tf.float32)
    next_Q_target = tf.convert_to_tensor(next_Q_target, tf.float32)
    rewards = tf.convert_to_tensor(rewards, tf.float32)
    dones = tf.convert_to_tensor(dones, tf.float32)
    n_outputs = tf.shape(next_Q_online)[1]
    best_next_actions = tf.argmax(next_Q_online, axis=1)
    next_mask = tf.one_hot(best_next_actions, n_outputs, dtype=tf.float32)
    max_next_Q_values = tf.reduce_sum(next_Q_target * next_mask, axis=1)
    return rewards + (1.0 - dones) * discount_factor * max_next_Q_values


# --- hyper-parameters -------------------------------------------------------------------

@dataclass(frozen=True)
class BreakoutConfig:
    """Hyper-parameters of the step-based Double Dueling DQN on Breakout."""
    n_steps: int = 1_000_000
    """environment steps of the whole run (4 ALE frames each); resuming continues up to it"""
    env_id: str = "ALE/Breakout-v5"
    """an Atari game (``ALE/...``) with a FIRE action"""
    replay_capacity: int = 100_000
    """transitions kept (about 0.7 GB of frames at 100,000; 6.6 GiB at 1,000,000)"""
    batch_size: int = 32
    """transitions sampled for each training step"""
    discount_factor: float = 0.99
    """gamma in the target ``r + gamma * Q_target(s', argmax_a' Q(s', a'))``"""
    learning_rate: float = 1e-4
    """Adam's learning rate"""
    epsilon_start: float = 1.0
    """epsilon at step 0"""
    epsilon_end: float = 0.01
    """epsilon after the decay"""
    epsilon_decay_steps: int = 250_000
    """epsilon decays linearly from epsilon_start to epsilon_end over this many steps"""
    training_starts: int = 20_000
    """steps played (randomly, mostly) before the first training step"""
    train_period: int = 4
    """one training step every 4 environment steps"""
    target_update_period: int = 10_000
    """hard update: copy the online weights to the target every this many steps"""
    soft_target_update: float = None
    """``tau``: instead, ``target = (1 - tau) * target + tau * online`` after each training step"""
    eval_interval: int = 50_000
    """evaluate the greedy-ish policy every this many steps (and keep the best weights)"""
    eval_episodes: int = 1
    """episodes per evaluation"""
    eval_max_steps: int = 27_000
    """steps per evaluation episode at most"""
    eval_epsilon: float = 0.05
    """epsilon while evaluating (keeps a greedy agent from stalling)"""
    eval_seed: int = 1_000_000
    """evaluation episode ``k`` is reset with ``eval_seed + k``; its epsilon draws too: fixed"""
    checkpoint_interval: int = 50_000
    """write a checkpoint every this many steps (and at the end, and on Ctrl-C)"""
    seed: int = 42
    """seeds TF, NumPy and Python; training episode ``k`` is reset with ``seed + k``"""

    def __post_init__(self):
        for name in ("n_steps", "replay_capacity", "batch_size", "epsilon_decay_steps",
                     "train_period", "target_update_period", "eval_interval", "eval_episodes",
                     "eval_max_steps", "checkpoint_interval"):
            check_positive_int(name, getattr(self, name))
        if not isinstance(self.env_id, str) or not self.env_id.startswith("ALE/"):
            raise ValueError(f"env_id must be an Atari id such as 'ALE/Breakout-v5', "
                             f"got {self.env_id!r}")
        check_non_negative_int("training_starts", self.training_starts)
        for name in ("discount_factor", "epsilon_start", "epsilon_end", "eval_epsilon"):
            check_unit_interval(name, getattr(self, name))
        check_positive_number("learning_rate", self.learning_rate)
        if self.soft_target_update is not None:
            check_unit_interval("soft_target_update", self.soft_target_update, zero=False)

    def epsilon(self, step):
        """Linear decay from epsilon_start to epsilon_end over epsilon_decay_steps."""
        fraction = min(step / self.epsilon_decay_steps, 1.0)
        return self.epsilon_start + fraction * (self.epsilon_end - self.epsilon_start)


# --- the agent: compiled acting and training ---------------------------------------------

def make_training_env(config, render_mode="rgb_array"):
    """The shared preprocessing of :mod:`homl_rl.atari` for ``config.env_id``."""
    return make_breakout_env(AtariConfig(env_id=config.env_id), render_mode=render_mode)


class BreakoutDQN:
    """The notebook's globals for this exercise: ``model``, ``target``, ``optimizer``,
    ``loss_fn``, and the two compiled functions, ``greedy_actions`` and
    ``training_step`` (``tf.function``: the same code runs on a GPU when present)."""

    def __init__(self, config, n_outputs, input_shape=(84, 84, 4)):
        self.config = config
        self.n_outputs = n_outputs
        self.model = build_dueling_conv_q_network(input_shape, n_outputs)
        self.target = clone_target(self.model)
        self.optimizer = tf.keras.optimizers.Adam(learning_rate=config.learning_rate)
        self.optimizer.build(self.model.trainable_variables)  # its variables exist from now
        self.loss_fn = tf.keras.losses.Huber()
        states = tf.TensorSpec([None, *input_shape], tf.uint8)
        self.greedy_actions = tf.function(self._greedy_actions, input_signature=[states])
        self.training_step = tf.function(self._training_step, input_signature=[
            states, tf.TensorSpec([None], tf.int32), tf.TensorSpec([None], tf.float32),
            states, tf.TensorSpec([None], tf.float32)])
        self.soft_update = tf.function(self._soft_update)

    def _greedy_actions(self, states):
        return tf.argmax(self.model(states, training=False), axis=1, output_type=tf.int32)

    def _training_step(self, states, actions, rewards, next_states, dones):
        """Double DQN: online argmax at s', target value; Huber loss on Q(s, a)."""
        next_Q_online = self.model(next_states, training=False)
        next_Q_target = self.target(next_states, training=False)
        target_Q_values = double_dqn_targets(rewards, dones, next_Q_online, next_Q_target,
                                             self.config.discount_factor)
        mask = tf.one_hot(actions, self.n_outputs)
        with tf.GradientTape() as tape:
            all_Q_values = self.model(states, training=True)
            Q_values = tf.reduce_sum(all_Q_values * mask, axis=1)
            loss = self.loss_fn(tf.stop_gradient(target_Q_values), Q_values)
        grads = tape.gradient(loss, self.model.trainable_variables)
        self.optimizer.apply_gradients(zip(grads, self.model.trainable_variables))
        return loss

    def _soft_update(self):
        tau = self.config.soft_target_update
        for target_weight, weight in zip(self.target.weights, self.model.weights):
            target_weight.assign((1 - tau) * target_weight + tau * weight)

    def epsilon_greedy_policy(self, state, epsilon, rng):
        """Random with probability ``epsilon`` (drawn from ``rng``), else the greedy action."""
        if rng.random() < epsilon:
            return int(rng.integers(self.n_outputs))
        return int(self.greedy_actions(state[np.newaxis])[0])

    def sync_target(self):
        self.target.set_weights(self.model.get_weights())


def evaluate(agent, env, config):
    """Mean return of ``eval_episodes`` episodes, epsilon ``eval_epsilon``, at fixed seeds."""
    rng = np.random.default_rng(config.eval_seed)
    returns = []
    for episode in range(config.eval_episodes):
        obs, info = env.reset(seed=config.eval_seed + episode)
        total = 0.0
        for _ in range(config.eval_max_steps):
            action = agent.epsilon_greedy_policy(obs, config.eval_epsilon, rng)
            obs, reward, terminated, truncated, info = env.step(action)
            total += reward
            if terminated or truncated:
                break
        returns.append(total)
    return float(np.mean(returns))


# --- checkpoints ----------------------------------------------------------------------------

@dataclass
class TrainingState:
    """Everything a run needs to continue exactly where it stopped."""
    step: int = 0
    """environment steps played so far"""
    episode: int = 0
    """episodes started (training episode ``k`` is reset with ``seed + k``)"""
    episode_return: float = 0.0
    """the current episode's return so far"""
    episode_actions: list = None
    """the current episode's actions: replayed from its seeded reset to restore the env"""
    episode_returns: list = None
    """``[step, return]`` at the end of each training episode"""
    evaluations: list = None
    """``[step, mean return]`` of each evaluation"""
    best_score: float = None
    """the best evaluation's mean return (``None`` before the first evaluation)"""
    interrupted: bool = False
    """whether the run stopped (Ctrl-C) before ``n_steps``"""

    def __post_init__(self):
        for name in ("episode_actions", "episode_returns", "evaluations"):
            if getattr(self, name) is None:
                setattr(self, name, [])


def save_checkpoint(path, config, agent, buffer, rng, state, obs, best_weights):
    """Write one ``.npz`` file atomically: weights, optimizer, replay buffer, RNG, counters."""
    meta = {"config": asdict(config), "rng": rng.bit_generator.state, "state": asdict(state)}
    arrays = {"obs": obs}
    for prefix, weights in (("model", agent.model.get_weights()),
                            ("target", agent.target.get_weights()),
                            ("optimizer", [v.numpy() for v in agent.optimizer.variables]),
                            ("best", best_weights or [])):
        pack_weights(arrays, prefix, weights)
    arrays.update({f"buffer_{k}": v for k, v in buffer.state_dict().items()})
    return write_checkpoint(path, meta, arrays)


def load_checkpoint(path):
    """``(meta, arrays)`` of a checkpoint, or a :class:`CheckpointError` saying what is wrong."""
    return read_checkpoint(path, meta_keys=("config", "rng", "state"),
                           array_keys=("obs", "model_count", "target_count", "optimizer_count",
                                       "best_count", "buffer_counters"))


def _restore(meta, arrays, path, agent, buffer, rng, env):
    """Load a checkpoint into ``agent``, ``buffer``, ``rng``; replay the current episode
    in ``env``; return ``(state, obs, best_weights)``."""
    try:
        agent.model.set_weights(unpack_weights(arrays, "model"))
        agent.target.set_weights(unpack_weights(arrays, "target"))
        for variable, value in zip(agent.optimizer.variables, unpack_weights(arrays, "optimizer"),
                                   strict=True):
            variable.assign(value)
        buffer.load_state_dict({k[len("buffer_"):]: v for k, v in arrays.items()
                                if k.startswith("buffer_")})
    except (ValueError, KeyError) as error:
        raise CheckpointError(
            f"checkpoint {path} does not fit this model/buffer: {error}") from error
    rng.bit_generator.state = meta["rng"]
    state = TrainingState(**meta["state"])
    config = agent.config
    obs, info = env.reset(seed=config.seed + state.episode - 1)
    for action in state.episode_actions:  # deterministic: no sticky actions, no random no-ops
        obs, *_ = env.step(action)
    if not np.array_equal(obs, arrays["obs"]):
        raise CheckpointError("replaying the current episode did not reach the checkpoint's "
                              "observation (was the environment changed?)")
    best = unpack_weights(arrays, "best") or None
    return state, obs, best


# --- the training loop ----------------------------------------------------------------------

class BreakoutSteps:
    """Breakout's training as the hooks of the one per-step loop,
    :func:`homl_rl.per_step_dqn.train_per_step` (:func:`train_breakout` builds it): one
    run's agent, environments, frame ring, random generator (acting and sampling draw from
    it in turn), counters (:class:`TrainingState`) and best weights.

    - :meth:`choose_action`: epsilon-greedy, epsilon linear in the run's step;
    - :meth:`observe`: the clipped reward ``sign(r)`` and the next frame into the
      :class:`FrameReplayBuffer`, the counters;
    - :meth:`train_after_step`: at an episode's end, the episode's record, then the next
      episode's seeded reset and its frames in the buffer — *before* the training step, as
      the notebook-style loop orders it (its frames may evict transitions the batch would
      be drawn from); every ``train_period`` steps from ``training_starts``, one compiled
      training step (then the soft update if asked); every ``target_update_period`` steps,
      the hard copy;
    - :meth:`after_step` (the loop's step callback): the evaluation, the progress bar and
      the checkpoint when due; it stops the loop on Ctrl-C or at ``stop_at_step``;
    - :meth:`at_episode_end`: nothing more (the next episode has started already).
    """

    def __init__(self, config, agent, env, eval_env, buffer, rng, state, obs, best_weights,
                 log, path, bar, stop_at_step=None):
        self.config, self.agent, self.env, self.eval_env = config, agent, env, eval_env
        self.buffer, self.rng, self.state, self.obs = buffer, rng, state, obs
        self.best_weights, self.log, self.path, self.bar = best_weights, log, path, bar
        self.stop_at_step = stop_at_step
        self.ctrl_c = None
        """the :class:`homl_rl.checkpoints.CtrlC` flag, set by :func:`train_breakout`"""
        self.losses = []
        """the training steps' losses since the last episode's end"""
        self.episode_ended = False

    def environment(self):
        """The environment the loop steps: ``reset`` gives the observation the run goes on
        from (the next episode's, reset already; or a resumed run's)."""
        return _Continuing(self)

    def choose_action(self, obs, step, episode):
        """Epsilon-greedy (:meth:`BreakoutDQN.epsilon_greedy_policy`) at the run's step."""
        return self.agent.epsilon_greedy_policy(obs, self.config.epsilon(self.state.step),
                                                self.rng)

    def observe(self, obs, action, reward, next_obs, terminated, truncated=False):
        """Store the step (the clipped reward, the new frame; ``done``: terminations only)."""
        self.buffer.add(action, np.sign(reward), next_obs, terminated)  # reward clipping
        self.state.episode_return += float(reward)
        self.state.episode_actions.append(action)
        self.state.step += 1
        self.obs = next_obs
        self.episode_ended = terminated or truncated

    def _start_next_episode(self, step):
        state, config = self.state, self.config
        state.episode_returns.append([step, state.episode_return])
        self.bar.set_postfix(ret=state.episode_return, eps=f"{config.epsilon(step):.3f}")
        self.log.scalars(step, **{
            "train/episode_return": state.episode_return,
            "train/epsilon": config.epsilon(step),
            "train/loss": float(np.mean(self.losses)) if self.losses else None})
        self.log.rate("train/env_steps_per_second", step, step)
        self.losses = []
        self.obs, info = self.env.reset(seed=config.seed + state.episode)
        state.episode += 1
        state.episode_return, state.episode_actions = 0.0, []
        self.buffer.start_episode(self.obs)

    def train_after_step(self, step):
        """The episode's end if it ended (see the class), then the training step and the
        target update when due, at the run's step; returns ``[(loss,)]`` or ``[]``."""
        config, agent, step = self.config, self.agent, self.state.step
        if self.episode_ended:
            self._start_next_episode(step)
        metrics = []
        if step >= config.training_starts and step % config.train_period == 0:
            batch = self.buffer.sample(config.batch_size)
            self.losses.append(float(agent.training_step(
                batch.states, batch.actions, batch.rewards, batch.next_states, batch.dones)))
            metrics.append((self.losses[-1],))
            if config.soft_target_update is not None:
                agent.soft_update()
        if config.soft_target_update is None and step % config.target_update_period == 0:
            agent.sync_target()
        return metrics

    def after_step(self, run, steps, history):
        """The evaluation (keeping the best weights), the progress bar and the checkpoint
        when due; ``True`` (stop) on Ctrl-C or at ``stop_at_step``."""
        config, state, step = self.config, self.state, self.state.step
        if step % config.eval_interval == 0:
            score = evaluate(self.agent, self.eval_env, config)
            state.evaluations.append([step, score])
            self.log.scalar("eval/score", score, step)
            if state.best_score is None or score > state.best_score:
                state.best_score, self.best_weights = score, self.agent.model.get_weights()
        self.bar.update(1)
        stop = self.ctrl_c.pressed or step == self.stop_at_step
        if stop or step % config.checkpoint_interval == 0 or step == config.n_steps:
            state.interrupted = stop and step < config.n_steps
            self.checkpoint()
            self.log.flush()
        return stop

    def at_episode_end(self, episode, obs, steps, finished):
        """Nothing: :meth:`train_after_step` has recorded the episode and started the next."""

    def checkpoint(self):
        """:func:`save_checkpoint` of the run as it is now."""
        save_checkpoint(self.path, self.config, self.agent, self.buffer, self.rng, self.state,
                        self.obs, self.best_weights)


class _Continuing:
    """``run.env`` as the loop steps it: ``reset`` returns ``run.obs`` (the episode the
    run is in), ``step`` is the environment's."""

    def __init__(self, run):
        self.run = run

    def reset(self, seed=None):
        return self.run.obs, {}

    def step(self, action):
        return self.run.env.step(action)


def train_breakout(config=BreakoutConfig(), out_dir="runs/breakout", resume=False,
                   progress=True, stop_at_step=None, logdir=None):
    """The notebook's Double Dueling DQN training loop, step-based and scaled to Atari.

    Every step: epsilon-greedy action (epsilon linear in the step), env step, the clipped
    reward ``sign(r)`` stored in the :class:`FrameReplayBuffer`. Every ``train_period``
    steps after ``training_starts``: one compiled training step (Double-DQN target, Huber
    loss, Adam), then the soft target update if asked; every ``target_update_period``
    steps: the hard copy. Every ``eval_interval`` steps: :func:`evaluate`, keeping the
    best weights. Every ``checkpoint_interval`` steps, at the end, on Ctrl-C (and at
    ``stop_at_step``, which simulates an interruption): :func:`save_checkpoint`. The loop is
    :func:`homl_rl.per_step_dqn.train_per_step` with the hooks of :class:`BreakoutSteps`.

    ``resume=True`` continues ``out_dir``'s checkpoint up to ``config.n_steps`` (its other
    hyper-parameters are the checkpoint's); an interrupted and resumed run gives the same
    numbers as an uninterrupted one. Without ``resume`` an existing checkpoint is an error
    (never overwritten). Returns ``(state, agent, best_weights)``.

    ``logdir``: a folder for TensorBoard (:mod:`homl_rl.summaries`; not a hyper-parameter):
    at each episode's end, at env step ``step``, ``train/episode_return``, ``train/epsilon``,
    ``train/loss`` (the mean of the episode's training steps, once training started) and
    ``train/env_steps_per_second``; at each evaluation ``eval/score``. A resumed run goes on
    writing there from its checkpoint's step.
    """
    path = Path(out_dir) / CHECKPOINT_NAME
    meta = arrays = None
    if resume:
        meta, arrays = load_checkpoint(path)
        saved = dict(meta["config"], n_steps=config.n_steps)
        config = BreakoutConfig(**saved)
    elif path.exists():
        raise CheckpointError(f"{path} exists: pass resume=True (--resume) to continue it, "
                              "or choose another output directory")
    log = summaries(logdir)
    set_seeds(config.seed)
    env, eval_env = make_training_env(config), make_training_env(config)
    agent = BreakoutDQN(config, env.action_space.n, env.observation_space.shape)
    rng = np.random.default_rng(config.seed)  # acting and sampling draw from it in turn
    buffer = FrameReplayBuffer(config.replay_capacity, env.observation_space.shape[:2],
                               env.observation_space.shape[2], rng=rng)
    best_weights = None
    if resume:
        state, obs, best_weights = _restore(meta, arrays, path, agent, buffer, rng, env)
        del arrays
    else:
        state = TrainingState()
        obs, info = env.reset(seed=config.seed)
        state.episode = 1
        buffer.start_episode(obs)
    if state.step >= config.n_steps:
        raise ValueError(f"the checkpoint is at step {state.step}: ask for more steps than "
                         f"that, got {config.n_steps}")

    bar = progress_bar(total=config.n_steps, initial=state.step, desc="breakout",
                       progress=progress, unit="step")
    run = BreakoutSteps(config, agent, env, eval_env, buffer, rng, state, obs, best_weights,
                        log, path, bar, stop_at_step)
    log.rate("train/env_steps_per_second", state.step, state.step)  # starts its clock
    with log, CtrlC() as ctrl_c:
        run.ctrl_c = ctrl_c
        train_per_step(run, run.environment(), n_steps=config.n_steps - state.step,
                       step_callback=run.after_step, progress=False)
    bar.close()
    env.close()
    eval_env.close()
    return state, agent, run.best_weights


# --- playing, the command line, figures -------------------------------------------------------

def load_agent(checkpoint_dir, weights="best"):
    """``(agent, config, meta)`` from a checkpoint: the best weights (or the last if the run
    never evaluated, or ``weights="last"``)."""
    meta, arrays = load_checkpoint(checkpoint_dir)
    config = BreakoutConfig(**meta["config"])
    env = make_training_env(config)
    agent = BreakoutDQN(config, env.action_space.n, env.observation_space.shape)
    env.close()
    best = unpack_weights(arrays, "best")
    last = unpack_weights(arrays, "model")
    agent.model.set_weights(best if best and weights == "best" else last)
    return agent, config, meta


def record_breakout_episode(agent, config, n_max_steps=1000, seed=None):
    """One evaluation-style episode (epsilon ``eval_epsilon``, fixed seed): the raw RGB
    frames, the actions and the return."""
    seed = config.eval_seed if seed is None else seed
    env = make_training_env(config, render_mode="rgb_array")
    rng = np.random.default_rng(seed)
    obs, info = env.reset(seed=seed)
    frames, actions, total = [env.render()], [], 0.0
    for _ in range(n_max_steps):
        action = agent.epsilon_greedy_policy(obs, config.eval_epsilon, rng)
        obs, reward, terminated, truncated, info = env.step(action)
        frames.append(env.render())
        actions.append(action)
        total += reward
        if terminated or truncated:
            break
    env.close()
    return frames, actions, total


