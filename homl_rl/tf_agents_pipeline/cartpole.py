"""The TF-Agents DQN tutorial ("Train a Deep Q Network with TF-Agents") on Gymnasium.

Every step of the tutorial, in its order and with its names: hyper-parameters,
environments (:func:`~homl_rl.tf_agents_pipeline.environments.load` in place of
``suite_gym.load``), the ``QNetwork`` (a ``sequential.Sequential`` of
``Dense(100)``, ``Dense(50)`` and the Q-value layer with the tutorial's
initializers), the ``DqnAgent`` (Adam 1e-3, element-wise squared loss), the policies,
``compute_avg_return``, the Reverb replay buffer (or, with
``replay_buffer="tf_uniform"``, a ``TFUniformReplayBuffer``), the random-policy
initial collection with a ``PyDriver``, the dataset, the ``common.function``-compiled
training loop, the plot of average return vs iterations, and videos of the trained
and of a random agent.

Departures from the tutorial, each for a reason:

- Gymnasium, not the old ``gym`` (so the TF-Agents agent sees the dynamics our
  Keras DQN sees); the environments are seeded (``reset(seed=...)``) and so is
  TensorFlow (:func:`homl_rl.seeding.set_seeds`).
- The tutorial collects with a separate ``env`` it made for rendering but resets
  ``train_py_env``; we collect in ``train_py_env``.
- ``compute_avg_return`` runs the greedy policy through ``PyTFEagerPolicy(...,
  use_tf_function=True)`` on the Python environment rather than eagerly on the
  ``TFPyEnvironment``: the same actions (the greedy policy is deterministic), about
  ten times faster.
- Training metrics (``py_metrics``: episodes, environment steps, average return and
  episode length of the collect policy) are observed by the collect driver; the
  tutorial only points to the metrics module.
"""

import time
import warnings
from dataclasses import asdict, dataclass

import numpy as np

from homl_rl.checks import check_positive_int, check_positive_number
from homl_rl.tf_setup import tf

import reverb  # noqa: E402
from tf_agents.agents.dqn import dqn_agent  # noqa: E402
from tf_agents.drivers import py_driver  # noqa: E402
from tf_agents.environments import tf_py_environment  # noqa: E402
from tf_agents.metrics import py_metrics  # noqa: E402
from tf_agents.networks import sequential  # noqa: E402
from tf_agents.policies import py_tf_eager_policy, random_tf_policy  # noqa: E402
from tf_agents.replay_buffers import (  # noqa: E402
    reverb_replay_buffer, reverb_utils, tf_uniform_replay_buffer)
from tf_agents.specs import tensor_spec  # noqa: E402
from tf_agents.utils import common  # noqa: E402

from homl_rl.progress import progress_bar  # noqa: E402
from homl_rl.seeding import set_seeds  # noqa: E402
from homl_rl.tf_agents_pipeline.environments import load  # noqa: E402

REPLAY_BUFFERS = ("reverb", "tf_uniform")


@dataclass(frozen=True)
class TutorialConfig:
    """Hyper-parameters of the tutorial's "Hyperparameters" cell, plus what we added."""
    env_name: str = "CartPole-v0"
    """the tutorial's environment (200 steps at most; Gymnasium still registers it)"""
    num_iterations: int = 20_000
    """training iterations (one collect step and one training step each)"""
    initial_collect_steps: int = 100
    """steps of the random policy put in the replay buffer before training"""
    collect_steps_per_iteration: int = 1
    """environment steps the collect policy takes per iteration"""
    replay_buffer_max_length: int = 100_000
    """capacity of the replay buffer"""
    batch_size: int = 64
    """transitions per training step"""
    learning_rate: float = 1e-3
    """Adam's learning rate"""
    log_interval: int = 200
    """iterations between two logged losses"""
    num_eval_episodes: int = 10
    """episodes averaged by each ``compute_avg_return``"""
    eval_interval: int = 1000
    """iterations between two evaluations"""
    fc_layer_params: tuple = (100, 50)
    """units of the hidden Dense layers"""
    replay_buffer: str = "reverb"
    """``"reverb"`` (the tutorial's) or ``"tf_uniform"`` (``TFUniformReplayBuffer``)"""
    seed: int = 42
    """seeds TensorFlow/NumPy/Python, the training environment (``seed``) and the
    evaluation environment (``seed + 1``)"""

    def __post_init__(self):
        if self.replay_buffer not in REPLAY_BUFFERS:
            raise ValueError(f"replay_buffer must be one of {REPLAY_BUFFERS}, "
                             f"got {self.replay_buffer!r}")
        for name in ("num_iterations", "initial_collect_steps", "collect_steps_per_iteration",
                     "replay_buffer_max_length", "batch_size", "log_interval",
                     "num_eval_episodes", "eval_interval"):
            check_positive_int(name, getattr(self, name))
        for units in self.fc_layer_params:
            check_positive_int("fc_layer_params", units)
        check_positive_number("learning_rate", self.learning_rate)


def make_environments(config):
    """The "Environment" cells: two Python environments and their TF wrappers."""
    with warnings.catch_warnings():  # "CartPole-v0 is out of date": it is the tutorial's
        warnings.filterwarnings("ignore", message=".*is out of date.*")
        train_py_env = load(config.env_name, seed=config.seed)
        eval_py_env = load(config.env_name, seed=config.seed + 1)
    train_env = tf_py_environment.TFPyEnvironment(train_py_env)
    eval_env = tf_py_environment.TFPyEnvironment(eval_py_env)
    return train_py_env, eval_py_env, train_env, eval_env


def dense_layer(num_units):
    """The tutorial's helper: a ReLU ``Dense`` layer with He (truncated normal) init."""
    return tf.keras.layers.Dense(
        num_units,
        activation=tf.keras.activations.relu,
        kernel_initializer=tf.keras.initializers.VarianceScaling(
            scale=2.0, mode='fan_in', distribution='truncated_normal'))


def make_q_net(action_spec, fc_layer_params=(100, 50)):
    """The "Agent" cell's ``QNetwork``: Dense layers then one Q-value per action."""
    action_tensor_spec = tensor_spec.from_spec(action_spec)
    num_actions = action_tensor_spec.maximum - action_tensor_spec.minimum + 1
    dense_layers = [dense_layer(num_units) for num_units in fc_layer_params]
    q_values_layer = tf.keras.layers.Dense(
        num_actions,
        activation=None,
        kernel_initializer=tf.keras.initializers.RandomUniform(
            minval=-0.03, maxval=0.03),
        bias_initializer=tf.keras.initializers.Constant(-0.2))
    return sequential.Sequential(dense_layers + [q_values_layer])


def make_tutorial_agent(train_env, q_net, learning_rate=1e-3):
    """The tutorial's ``DqnAgent``: Adam, element-wise squared loss, a step counter."""
    optimizer = tf.keras.optimizers.Adam(learning_rate=learning_rate)
    train_step_counter = tf.Variable(0)
    agent = dqn_agent.DqnAgent(
        train_env.time_step_spec(),
        train_env.action_spec(),
        q_network=q_net,
        optimizer=optimizer,
        td_errors_loss_fn=common.element_wise_squared_loss,
        train_step_counter=train_step_counter)
    agent.initialize()
    return agent


def compute_avg_return(environment, policy, num_episodes=10):
    """The tutorial's ``compute_avg_return``: average sum of rewards over ``num_episodes``.

    Works on a TF environment with a TF policy (the tutorial's call) and on a Python
    environment with a Python policy (ours, faster).
    """
    total_return = 0.0
    for _ in range(num_episodes):
        time_step = environment.reset()
        episode_return = 0.0
        while not time_step.is_last():
            action_step = policy.action(time_step)
            time_step = environment.step(action_step.action)
            episode_return += time_step.reward
        total_return += episode_return
    avg_return = total_return / num_episodes
    return float(np.asarray(avg_return).reshape(-1)[0])


def make_reverb_replay_buffer(agent, replay_buffer_max_length=100_000,
                              table_name='uniform_table'):
    """The "Replay Buffer" cell: a Reverb table on a local in-process server.

    Uniform sampler, FIFO remover, ``MinSize(1)``; the table signature is the agent's
    ``collect_data_spec`` with an outer (time) dimension, since the observer writes
    sequences of 2 steps. Returns ``(replay_buffer, rb_observer, reverb_server)``.
    """
    replay_buffer_signature = tensor_spec.from_spec(agent.collect_data_spec)
    replay_buffer_signature = tensor_spec.add_outer_dim(replay_buffer_signature)
    table = reverb.Table(
        table_name,
        max_size=replay_buffer_max_length,
        sampler=reverb.selectors.Uniform(),
        remover=reverb.selectors.Fifo(),
        rate_limiter=reverb.rate_limiters.MinSize(1),
        signature=replay_buffer_signature)
    reverb_server = reverb.Server([table], port=None)
    replay_buffer = reverb_replay_buffer.ReverbReplayBuffer(
        agent.collect_data_spec,
        table_name=table_name,
        sequence_length=2,
        local_server=reverb_server)
    rb_observer = reverb_utils.ReverbAddTrajectoryObserver(
        replay_buffer.py_client,
        table_name,
        sequence_length=2)
    return replay_buffer, rb_observer, reverb_server


def make_tf_uniform_replay_buffer(agent, replay_buffer_max_length=100_000):
    """The alternative: a ``TFUniformReplayBuffer`` (batch size 1) and an observer for ``PyDriver``.

    ``PyDriver`` hands observers unbatched NumPy trajectories; ``add_batch`` wants a
    batch dimension, which the (compiled) observer adds.
    """
    replay_buffer = tf_uniform_replay_buffer.TFUniformReplayBuffer(
        data_spec=agent.collect_data_spec,
        batch_size=1,
        max_length=replay_buffer_max_length)

    @common.function
    def rb_observer(trajectory):
        replay_buffer.add_batch(
            tf.nest.map_structure(lambda array: tf.expand_dims(array, 0), trajectory))

    return replay_buffer, rb_observer


class TutorialPipeline:
    """Everything the tutorial builds, held in one object (the notebook's globals).

    ``TutorialPipeline(config)`` runs the cells up to (not including) the training
    loop, in order: seeds, environments, ``q_net``, ``agent``, policies, replay
    buffer and its observer, training metrics. :meth:`collect_initial` and
    :meth:`train` are the next cells; :func:`run_tutorial` runs them all.
    """

    def __init__(self, config=TutorialConfig()):
        self.config = config
        set_seeds(config.seed)
        (self.train_py_env, self.eval_py_env,
         self.train_env, self.eval_env) = make_environments(config)
        self.q_net = make_q_net(self.train_env.action_spec(), config.fc_layer_params)
        self.agent = make_tutorial_agent(self.train_env, self.q_net, config.learning_rate)
        self.eval_policy = self.agent.policy
        self.collect_policy = self.agent.collect_policy
        self.random_policy = random_tf_policy.RandomTFPolicy(
            self.train_env.time_step_spec(), self.train_env.action_spec())
        self.reverb_server = None
        if config.replay_buffer == "reverb":
            self.replay_buffer, self.rb_observer, self.reverb_server = make_reverb_replay_buffer(
                self.agent, config.replay_buffer_max_length)
        else:
            self.replay_buffer, self.rb_observer = make_tf_uniform_replay_buffer(
                self.agent, config.replay_buffer_max_length)
        self.train_metrics = [
            py_metrics.NumberOfEpisodes(),
            py_metrics.EnvironmentSteps(),
            py_metrics.AverageReturnMetric(),
            py_metrics.AverageEpisodeLengthMetric(),
        ]
        self._greedy_py_policy = py_tf_eager_policy.PyTFEagerPolicy(
            self.agent.policy, use_tf_function=True)

    def evaluate(self, num_episodes=None):
        """``compute_avg_return(eval_env, agent.policy, num_eval_episodes)`` (see the module doc)."""
        return compute_avg_return(self.eval_py_env, self._greedy_py_policy,
                                  num_episodes or self.config.num_eval_episodes)

    def collect_initial(self):
        """The "Data Collection" cell: the random policy fills the buffer for ``initial_collect_steps``."""
        py_driver.PyDriver(
            self.train_py_env,
            py_tf_eager_policy.PyTFEagerPolicy(
                self.random_policy, use_tf_function=True),
            [self.rb_observer],
            max_steps=self.config.initial_collect_steps).run(self.train_py_env.reset())

    def make_dataset(self):
        """The dataset cell: batches of ``batch_size`` pairs of adjacent steps, prefetched."""
        return self.replay_buffer.as_dataset(
            num_parallel_calls=3,
            sample_batch_size=self.config.batch_size,
            num_steps=2).prefetch(3)

    def train(self, progress=None, evaluate=None):
        """The "Training the agent" cell. Returns the history of the run (a dict).

        ``progress`` (optional) is called with the iteration number after each one.
        ``evaluate`` (optional) replaces :meth:`evaluate` (the comparison evaluates
        on 100 fixed episodes); the time it takes is left out of ``wall_seconds``.
        The history holds ``iterations``/``returns`` (the evaluation before training
        and every ``eval_interval``), ``loss_steps``/``losses`` (every
        ``log_interval``), ``env_steps`` (collect steps at each evaluation, counting
        the initial random ones), ``wall_seconds`` (at each evaluation, since the
        start of training, evaluations left out), ``train_seconds`` (the whole cell,
        evaluations included) and the final training metrics.
        """
        config = self.config
        iterator = iter(self.make_dataset())
        # (Optional) Optimize by wrapping some of the code in a graph using TF function.
        self.agent.train = common.function(self.agent.train)
        # Reset the train step.
        self.agent.train_step_counter.assign(0)
        evaluate = evaluate or self.evaluate
        start, eval_seconds = time.perf_counter(), 0.0

        def timed_evaluation():
            nonlocal eval_seconds
            eval_start = time.perf_counter()
            avg_return = evaluate()
            eval_seconds += time.perf_counter() - eval_start
            return avg_return

        # Evaluate the agent's policy once before training.
        avg_return = timed_evaluation()
        returns = [avg_return]
        iterations, env_steps, wall = [0], [config.initial_collect_steps], [0.0]
        loss_steps, losses = [], []
        # Reset the environment.
        time_step = self.train_py_env.reset()
        # Create a driver to collect experience.
        collect_driver = py_driver.PyDriver(
            self.train_py_env,
            py_tf_eager_policy.PyTFEagerPolicy(
                self.agent.collect_policy, use_tf_function=True),
            [self.rb_observer] + self.train_metrics,
            max_steps=config.collect_steps_per_iteration)
        for _ in range(config.num_iterations):
            # Collect a few steps and save to the replay buffer.
            time_step, _ = collect_driver.run(time_step)
            # Sample a batch of data from the buffer and update the agent's network.
            experience, unused_info = next(iterator)
            train_loss = self.agent.train(experience).loss
            step = int(self.agent.train_step_counter.numpy())
            if step % config.log_interval == 0:
                loss_steps.append(step)
                losses.append(float(train_loss))
            if step % config.eval_interval == 0:
                returns.append(timed_evaluation())
                iterations.append(step)
                env_steps.append(config.initial_collect_steps
                                 + int(self.train_metrics[1].result()))
                wall.append(time.perf_counter() - start - eval_seconds)
            if progress is not None:
                progress(step)
        return {
            "config": asdict(config),
            "iterations": iterations, "returns": returns,
            "loss_steps": loss_steps, "losses": losses,
            "env_steps": env_steps, "wall_seconds": wall,
            "train_seconds": time.perf_counter() - start,
            "eval_seconds": eval_seconds,
            "train_metrics": {metric.name: float(metric.result()) for metric in self.train_metrics},
        }

    def close(self):
        """Stop the Reverb server and close the environments."""
        if self.reverb_server is not None:
            self.rb_observer.close()
            self.reverb_server.stop()
            self.reverb_server = None
        for env in (self.train_py_env, self.eval_py_env):
            env.close()


def run_tutorial(config=TutorialConfig(), progress=False):
    """Run the whole tutorial; return ``(pipeline, history)`` (close the pipeline when done)."""
    pipeline = TutorialPipeline(config)
    pipeline.collect_initial()
    bar = progress_bar(total=config.num_iterations, desc=f"tf-agents dqn ({config.replay_buffer})",
                       progress=progress, unit="it")
    with bar:
        history = pipeline.train(progress=lambda step: bar.update(1))
    return pipeline, history


def plot_returns(history, ax=None):
    """The tutorial's "Plots" cell: average return vs iterations (``ylim(top=250)`` for v0)."""
    import matplotlib.pyplot as plt

    ax = ax or plt.gca()
    ax.plot(history["iterations"], history["returns"])
    ax.set_ylabel('Average Return')
    ax.set_xlabel('Iterations')
    top = 250 if history["config"]["env_name"] == "CartPole-v0" else 550
    ax.set_ylim(top=top)
    return ax


def policy_eval_frames(py_env, policy, num_episodes=5):
    """The frames of the tutorial's ``create_policy_eval_video``: ``num_episodes`` rendered episodes.

    ``policy`` is a Python policy (wrap a TF policy in ``PyTFEagerPolicy``).
    """
    frames = []
    for _ in range(num_episodes):
        time_step = py_env.reset()
        frames.append(py_env.render())
        while not time_step.is_last():
            action_step = policy.action(time_step)
            time_step = py_env.step(action_step.action)
            frames.append(py_env.render())
    return frames


__all__ = [
    "TutorialConfig", "TutorialPipeline", "make_environments", "dense_layer", "make_q_net",
    "make_tutorial_agent", "compute_avg_return", "make_reverb_replay_buffer",
    "make_tf_uniform_replay_buffer", "run_tutorial", "plot_returns", "policy_eval_frames",
]
