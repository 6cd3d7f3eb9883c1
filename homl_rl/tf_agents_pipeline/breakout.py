"""The 2nd edition's "Using TF-Agents to Beat Breakout", on Gymnasium's ``ALE/Breakout-v5``.

The cells, in their order and with their names: the environment (preprocessed by
:func:`homl_rl.atari.make_breakout_env`, wrapped by
:class:`~homl_rl.tf_agents_pipeline.environments.GymnasiumEnvironment` and
``TFPyEnvironment``), the ``QNetwork`` (a /255 preprocessing layer, three
convolutional layers, one 512-unit dense layer), the ``DqnAgent`` (centered RMSprop,
epsilon decaying from 1 to 0.01, target updated every 2,000 training steps, Huber
loss, gamma 0.99, one training step every 4 collect steps), the
``TFUniformReplayBuffer``, ``ShowProgress``, the four training metrics, the
``DynamicStepDriver``s (random initial collection, then the collect policy), the
dataset, ``common.function`` on ``collect_driver.run`` and ``agent.train``, and
``train_agent``.

Added for a run that lasts days on a CPU: ``train_agent`` saves a TF-Agents
``Checkpointer`` checkpoint (agent, training step, metrics, and optionally the replay
buffer) and the greedy policy (``PolicySaver``) every ``checkpoint_interval``
iterations, and resumes from the last checkpoint when restarted with the same
directory (the histories and the Ctrl-C rule are :mod:`homl_rl.checkpoints`'). :func:`play`
records a GIF of a saved policy.

Note on epsilon: the 2nd edition's schedule is ``PolynomialDecay(1.0,
decay_steps=250000 // update_period, end=0.01)`` evaluated on the *training* step,
so epsilon reaches 0.01 after 250,000 collect steps, i.e. 1,000,000 ALE frames.
"""

import logging
import time
import warnings
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from homl_rl.checks import check_positive_int, check_unit_interval
from homl_rl.tf_setup import tf

from tf_agents.agents.dqn.dqn_agent import DqnAgent  # noqa: E402
from tf_agents.drivers import py_driver  # noqa: E402
from tf_agents.drivers.dynamic_step_driver import DynamicStepDriver  # noqa: E402
from tf_agents.environments.tf_py_environment import TFPyEnvironment  # noqa: E402
from tf_agents.eval import metric_utils  # noqa: E402
from tf_agents.metrics import tf_metrics  # noqa: E402
from tf_agents.networks.q_network import QNetwork  # noqa: E402
from tf_agents.policies import policy_saver, py_tf_eager_policy  # noqa: E402
from tf_agents.policies.random_tf_policy import RandomTFPolicy  # noqa: E402
from tf_agents.replay_buffers import tf_uniform_replay_buffer  # noqa: E402
from tf_agents.utils import common  # noqa: E402
from tf_agents.utils.common import function  # noqa: E402

from homl_rl.atari import AtariConfig, make_breakout_env  # noqa: E402
from homl_rl.animation import save_animation  # noqa: E402
from homl_rl.checkpoints import (  # noqa: E402
    CtrlC, checkpointed_step, load_histories, write_history)
from homl_rl.paths import BREAKOUT_TF_AGENTS_RUN  # noqa: E402
from homl_rl.progress import progress_bar  # noqa: E402
from homl_rl.seeding import set_seeds  # noqa: E402
from homl_rl.summaries import summaries  # noqa: E402
from homl_rl.tf_agents_pipeline.environments import GymnasiumEnvironment  # noqa: E402

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class TFAgentsBreakoutConfig:
    """Hyper-parameters of the 2nd edition's Breakout cells (named as in the Keras run's
    :class:`homl_rl.breakout.BreakoutConfig` where they mean the same thing)."""
    atari: AtariConfig = field(default_factory=AtariConfig)
    """the environment's preprocessing (frame skip 4, 84x84 grayscale, 4 frames, FIRE, 27k steps)"""
    conv_layer_params: tuple = ((32, (8, 8), 4), (64, (4, 4), 2), (64, (3, 3), 1))
    """(filters, kernel size, stride) of each convolutional layer"""
    fc_layer_params: tuple = (512,)
    """units of the dense layers"""
    learning_rate: float = 2.5e-4
    """RMSprop's learning rate (rho 0.95, epsilon 1e-5, centered)"""
    train_period: int = 4
    """collect steps per training step (the ``update_period`` of the 2nd edition's cell)"""
    epsilon_decay_steps: int = 250_000
    """collect steps over which epsilon decays (<=> 1,000,000 ALE frames)"""
    epsilon_end: float = 0.01
    """epsilon once decayed"""
    target_update_period: int = 2_000
    """training steps between target network updates (<=> 32,000 ALE frames)"""
    discount_factor: float = 0.99
    """gamma, the discount factor"""
    replay_capacity: int = 100_000
    """replay buffer capacity (the notebook's 100,000; the book's 1,000,000 needs ~30 GB)"""
    initial_collect_steps: int = 20_000
    """random-policy steps before training (<=> 80,000 ALE frames)"""
    batch_size: int = 64
    """trajectories per training step"""
    n_iterations: int = 50_000
    """training iterations of ``train_agent`` (the notebook's cell; over 200,000 to play well)"""
    log_interval: int = 1_000
    """iterations between two logs of the training metrics"""
    checkpoint_interval: int = 10_000
    """iterations between two checkpoints (when a checkpoint directory is given)"""
    seed: int = 42
    """seeds TensorFlow/NumPy/Python and the environment"""

    def __post_init__(self):
        for name in ("train_period", "epsilon_decay_steps", "target_update_period",
                     "replay_capacity", "initial_collect_steps", "batch_size",
                     "n_iterations", "log_interval", "checkpoint_interval"):
            check_positive_int(name, getattr(self, name))
        for units in self.fc_layer_params:
            check_positive_int("fc_layer_params", units)
        check_unit_interval("discount_factor", self.discount_factor)
        check_unit_interval("epsilon_end", self.epsilon_end)


def make_tf_env(config=TFAgentsBreakoutConfig()):
    """The environment cells: preprocessed Breakout as a ``TFPyEnvironment``."""
    py_env = GymnasiumEnvironment(make_breakout_env(config.atari), seed=config.seed)
    return TFPyEnvironment(py_env)


def make_q_net(tf_env, config=TFAgentsBreakoutConfig()):
    """The "Creating the DQN" cell: ``QNetwork`` with a /255 preprocessing layer."""
    preprocessing_layer = tf.keras.layers.Lambda(
        lambda obs: tf.cast(obs, np.float32) / 255.)
    return QNetwork(
        tf_env.observation_spec(),
        tf_env.action_spec(),
        preprocessing_layers=preprocessing_layer,
        conv_layer_params=[tuple(params) for params in config.conv_layer_params],
        fc_layer_params=list(config.fc_layer_params))


def make_breakout_agent(tf_env, q_net, config=TFAgentsBreakoutConfig()):
    """The ``DqnAgent`` cell: centered RMSprop, decaying epsilon, Huber loss, gamma 0.99."""
    train_step = tf.Variable(0)
    update_period = config.train_period  # run a training step every 4 collect steps
    optimizer = tf.keras.optimizers.RMSprop(learning_rate=config.learning_rate, rho=0.95,
                                            momentum=0.0, epsilon=0.00001, centered=True)
    epsilon_fn = tf.keras.optimizers.schedules.PolynomialDecay(
        initial_learning_rate=1.0,  # initial ε
        decay_steps=config.epsilon_decay_steps // update_period,  # <=> 1,000,000 ALE frames
        end_learning_rate=config.epsilon_end)  # final ε
    agent = DqnAgent(tf_env.time_step_spec(),
                     tf_env.action_spec(),
                     q_network=q_net,
                     optimizer=optimizer,
                     target_update_period=config.target_update_period,  # <=> 32,000 ALE frames
                     td_errors_loss_fn=tf.keras.losses.Huber(reduction="none"),
                     gamma=config.discount_factor,  # discount factor
                     train_step_counter=train_step,
                     epsilon_greedy=lambda: epsilon_fn(train_step))
    agent.initialize()
    return agent


TB_METRIC_TAGS = {"NumberOfEpisodes": "number_of_episodes",
                  "EnvironmentSteps": "environment_steps",
                  "AverageReturn": "average_return",
                  "AverageEpisodeLength": "average_episode_length"}
"""the TensorBoard tag (``train/<tag>``) of each training metric"""


class ShowProgress:
    """The 2nd edition's observer counting the steps it sees (boundaries excluded).

    It drew ``\\r{counter}/{total}``; ours updates a progress bar, quiet in CI.
    """

    def __init__(self, total, progress=True):
        self.counter = 0
        self.total = total
        self._bar = progress_bar(total=total, desc="initial collection", progress=progress,
                                 unit="step")

    def __call__(self, trajectory):
        if not trajectory.is_boundary():
            self.counter += 1
            self._bar.update(1)
        if self.counter >= self.total:
            self._bar.close()


class BreakoutPipeline:
    """The 2nd edition's Breakout objects (its notebook globals), built in its order.

    ``BreakoutPipeline(config)``: seeds, ``tf_env``, ``q_net``, ``agent``,
    ``replay_buffer``, ``train_metrics``, ``collect_driver``. Then
    :meth:`collect_initial` and :meth:`train_agent`.
    """

    def __init__(self, config=TFAgentsBreakoutConfig()):
        self.config = config
        set_seeds(config.seed)
        self.tf_env = make_tf_env(config)
        self.q_net = make_q_net(self.tf_env, config)
        self.agent = make_breakout_agent(self.tf_env, self.q_net, config)
        self.train_step = self.agent.train_step_counter
        self.replay_buffer = tf_uniform_replay_buffer.TFUniformReplayBuffer(
            data_spec=self.agent.collect_data_spec,
            batch_size=self.tf_env.batch_size,
            max_length=config.replay_capacity)
        self.replay_buffer_observer = self.replay_buffer.add_batch
        self.train_metrics = [
            tf_metrics.NumberOfEpisodes(),
            tf_metrics.EnvironmentSteps(),
            tf_metrics.AverageReturnMetric(),
            tf_metrics.AverageEpisodeLengthMetric(),
        ]
        self.collect_driver = DynamicStepDriver(
            self.tf_env,
            self.agent.collect_policy,
            observers=[self.replay_buffer_observer] + self.train_metrics,
            num_steps=config.train_period)  # collect 4 steps for each training iteration
        self._compiled = False

    def collect_initial(self, policy=None, progress=True):
        """Fill the buffer with ``initial_collect_steps`` of the random policy (the 2nd edition's
        ``init_driver``), or of ``policy`` (used to refill the buffer after a resume)."""
        initial_collect_policy = policy or RandomTFPolicy(self.tf_env.time_step_spec(),
                                                          self.tf_env.action_spec())
        init_driver = DynamicStepDriver(
            self.tf_env,
            initial_collect_policy,
            observers=[self.replay_buffer.add_batch,
                       ShowProgress(self.config.initial_collect_steps, progress)],
            num_steps=self.config.initial_collect_steps)  # <=> 80,000 ALE frames
        final_time_step, final_policy_state = init_driver.run()
        return final_time_step

    def sample_trajectories(self, sample_batch_size=2, num_steps=3, seed=9):
        """The 2nd edition's "sample 2 sub-episodes, with 3 time steps each" cell.

        ``tf.random.set_seed(9)`` there was "chosen to show an example of trajectory at
        the end of an episode" (on its build).
        """
        tf.random.set_seed(seed)
        trajectories, buffer_info = next(iter(self.replay_buffer.as_dataset(
            sample_batch_size=sample_batch_size,
            num_steps=num_steps,
            single_deterministic_pass=False)))
        return trajectories

    def make_dataset(self):
        """The dataset cell: batches of 64 pairs of adjacent steps, prefetched."""
        return self.replay_buffer.as_dataset(
            sample_batch_size=self.config.batch_size,
            num_steps=2,
            num_parallel_calls=3).prefetch(3)

    def _compile(self):
        """Convert the main functions to TF Functions for better performance."""
        if not self._compiled:
            self.collect_driver.run = function(self.collect_driver.run)
            self.agent.train = function(self.agent.train)
            self._compiled = True

    def checkpointer(self, checkpoint_dir, with_replay_buffer=False):
        """A TF-Agents ``Checkpointer`` of the agent, training step, metrics (and buffer)."""
        items = dict(agent=self.agent, policy=self.agent.policy, global_step=self.train_step,
                     metrics=metric_utils.MetricsGroup(self.train_metrics, "train_metrics"))
        if with_replay_buffer:
            items["replay_buffer"] = self.replay_buffer
        return common.Checkpointer(ckpt_dir=str(Path(checkpoint_dir) / "train"),
                                   max_to_keep=1, **items)

    def epsilon(self):
        """The collect policy's epsilon now (the ``DqnAgent`` cell's ``epsilon_fn(train_step)``)."""
        return float(self.agent.collect_policy._epsilon())

    def train_agent(self, n_iterations=None, checkpoint_dir=None,
                    checkpoint_replay_buffer=False, progress=True, logdir=None):
        """The 2nd edition's ``train_agent(n_iterations)``, with logging and checkpoints.

        Returns the history: the loss of every iteration, and the training metrics
        every ``log_interval`` iterations. With ``checkpoint_dir``, restores the last
        checkpoint there first (so a stopped run resumes; the replay buffer is refilled
        by the restored collect policy unless it was checkpointed too), saves a
        checkpoint and the greedy policy (``<checkpoint_dir>/policy``) every
        ``checkpoint_interval`` iterations and at the end; Ctrl-C saves one too and stops.

        ``logdir``: a folder for TensorBoard (:mod:`homl_rl.summaries`): every
        ``log_interval`` iterations (and at the last), at the training step,
        ``train/loss`` (the mean since the last log), ``train/epsilon``, the four training
        metrics (``train/average_return``, ``train/average_episode_length``,
        ``train/number_of_episodes``, ``train/environment_steps``) and
        ``train/env_steps_per_second``.
        """
        config = self.config
        n_iterations = config.n_iterations if n_iterations is None else n_iterations
        check_positive_int("n_iterations", n_iterations)
        log = summaries(logdir)
        train_checkpointer = saver = None
        if checkpoint_dir is not None:
            train_checkpointer = self.checkpointer(checkpoint_dir, checkpoint_replay_buffer)
            train_checkpointer.initialize_or_restore()
            saver = policy_saver.PolicySaver(self.agent.policy, batch_size=None)
            start_iteration = int(self.train_step.numpy())
            if start_iteration:
                logger.info("resumed from %s at training step %d", checkpoint_dir, start_iteration)
        if self.replay_buffer.num_frames() == 0:
            restored = checkpoint_dir is not None and int(self.train_step.numpy()) > 0
            self.collect_initial(self.agent.collect_policy if restored else None, progress)
        self._compile()
        start_step = int(self.train_step.numpy())
        history = {"config": asdict(config), "start_step": start_step, "losses": [],
                   "metrics": []}
        start = time.perf_counter()
        time_step = None
        policy_state = self.agent.collect_policy.get_initial_state(self.tf_env.batch_size)
        iterator = iter(self.make_dataset())
        bar = progress_bar(range(n_iterations), desc="breakout", progress=progress, unit="it")
        env_steps = self.train_metrics[1]
        log.rate("train/env_steps_per_second", int(env_steps.result()), start_step)
        logged = 0  # losses already averaged into a log
        with log, CtrlC() as ctrl_c:  # Ctrl-C: log, checkpoint (when checkpointing) and stop
            for iteration in bar:
                time_step, policy_state = self.collect_driver.run(time_step, policy_state)
                trajectories, buffer_info = next(iterator)
                train_loss = self.agent.train(trajectories)
                loss = float(train_loss.loss.numpy())
                history["losses"].append(loss)
                bar.set_postfix_str(f"loss:{loss:.5f}")
                step = int(self.train_step.numpy())
                last = iteration == n_iterations - 1 or ctrl_c.pressed
                if iteration % config.log_interval == 0 or last:
                    metric_utils.log_metrics(self.train_metrics)
                    history["metrics"].append(dict(
                        {metric.name: float(metric.result()) for metric in self.train_metrics},
                        train_step=step, seconds=time.perf_counter() - start))
                    log.scalars(step, **{
                        "train/loss": float(np.mean(history["losses"][logged:])),
                        "train/epsilon": self.epsilon(),
                        **{f"train/{TB_METRIC_TAGS[metric.name]}": float(metric.result())
                           for metric in self.train_metrics}})
                    log.rate("train/env_steps_per_second", int(env_steps.result()), step)
                    logged = len(history["losses"])
                if ctrl_c.pressed:
                    history["interrupted"] = True
                if train_checkpointer is not None and (step % config.checkpoint_interval == 0
                                                       or last):
                    train_checkpointer.save(global_step=self.train_step)
                    with warnings.catch_warnings():  # TFP: "will require that this type be ..."
                        warnings.filterwarnings("ignore", message="Encoding a StructuredValue")
                        saver.save(str(Path(checkpoint_dir) / "policy"))
                    write_history(checkpoint_dir, self._stamp(history, start))
                    log.flush()
                if ctrl_c.pressed:
                    break
        return self._stamp(history, start)

    def _stamp(self, history, start):
        """``history`` brought up to date: last training step, seconds since ``start``,
        environment steps."""
        history.update(end_step=int(self.train_step.numpy()), seconds=time.perf_counter() - start,
                       env_steps=int(self.train_metrics[1].result()))
        return history


def play(policy, config=TFAgentsBreakoutConfig(), num_steps=1000, seed=42):
    """The 2nd edition's ``watch_driver``: ``num_steps`` of ``policy``, and the frames rendered.

    ``policy`` is a TF policy (``agent.policy``) or the directory of a policy saved
    by :meth:`BreakoutPipeline.train_agent` (``<checkpoint_dir>/policy``). The 2nd
    edition drove a ``DynamicStepDriver`` on the TF environment and rendered its
    ``pyenv``; we drive a ``PyDriver`` on the Python environment, which also runs a
    saved policy. Returns ``(frames, rewards)``.
    """
    py_env = GymnasiumEnvironment(make_breakout_env(config.atari), seed=seed)
    if isinstance(policy, (str, Path)):
        policy = py_tf_eager_policy.SavedModelPyTFEagerPolicy(
            str(policy), py_env.time_step_spec(), py_env.action_spec())
    else:
        policy = py_tf_eager_policy.PyTFEagerPolicy(policy, use_tf_function=True)
    frames, rewards = [], []

    def save_frames(trajectory):
        frames.append(py_env.render())
        rewards.append(float(trajectory.reward))

    watch_driver = py_driver.PyDriver(py_env, policy, observers=[save_frames],
                                      max_steps=num_steps)
    watch_driver.run(py_env.reset())
    py_env.close()
    return frames, rewards


def save_breakout_gif(policy, path, config=TFAgentsBreakoutConfig(), num_steps=1000,
                      n_frames=300, seed=42):
    """Play ``policy`` and save the first ``n_frames`` frames as a GIF (the 2nd edition kept 150),
    at the Atari's own 160x210 pixels."""
    frames, rewards = play(policy, config, num_steps, seed)
    return save_animation(frames[:n_frames], path, interval=30, scale=1), rewards


SUB_EPISODES_CONFIG = TFAgentsBreakoutConfig(replay_capacity=2_000, initial_collect_steps=2_000)
"""``sub_episodes_plot``'s run: 2,000 random steps (the notebook's 20,000 take minutes here)"""


AGENT_RUN = TFAgentsBreakoutConfig(n_iterations=100_000, checkpoint_interval=5_000)
"""The long run behind ``breakout_tf_agents``: 100,000 iterations = 400,000 env steps =
1.6M ALE frames (epsilon reaches 0.01 at 1M); measured on 2 CPU cores: 1.3 min of start-up
and random collection, then 63 min of training (106 env steps/s)."""

"""Its checkpoints, saved policy and histories (a stopped run resumes from here)."""

AGENT_GIF_STEPS = 600
"""Steps of the trained agent's GIF (4 ALE frames each; 18 s at 30 ms a frame)."""


def agent_run(config=AGENT_RUN, checkpoint_dir=BREAKOUT_TF_AGENTS_RUN, progress=True):
    """Train ``config``'s run up to ``config.n_iterations`` in ``checkpoint_dir`` (resuming
    from its last checkpoint, skipped when done); return its histories, oldest first.

    An uninterrupted run is deterministic (see the tests); a resumed one refills its
    replay buffer with the restored collect policy, so its numbers differ a little.
    """
    done = checkpointed_step(checkpoint_dir)
    if done < config.n_iterations:
        pipeline = BreakoutPipeline(config)
        pipeline.train_agent(config.n_iterations - done, checkpoint_dir, progress=progress)
    return load_histories(checkpoint_dir)


def run_metrics(histories):
    """The training metrics logged over the whole run, in order."""
    return [metrics for history in histories for metrics in history["metrics"]]


def mean_losses(histories, every=1_000):
    """The training loss averaged over each ``every`` iterations of the run, in order."""
    losses = [loss for history in histories for loss in history["losses"]]
    return [float(np.mean(losses[start:start + every])) for start in range(0, len(losses), every)]
