"""Our per-step Keras DQN at ``TF_AGENTS_CARTPOLE`` is TF-Agents' ``DqnAgent`` as its tutorial
uses it: from the same initial weights, fed the same batches, both compute the same losses
and the same weights, step after step.

This is the claim behind ``python -m homl_rl compare``'s implementation comparison; the
learning curves there only illustrate it (each side then draws its own random numbers).
"""

import gymnasium as gym
import numpy as np
import pytest
from tf_agents.trajectories import time_step as ts
from tf_agents.trajectories import trajectory

from homl_rl.per_step_dqn import TF_AGENTS_CARTPOLE, PerStepDQN
from homl_rl.replay_buffers import Experiences
from homl_rl.seeding import set_seeds
from homl_rl.tf_agents_pipeline.cartpole import make_q_net, make_tutorial_agent
from homl_rl.tf_agents_pipeline.environments import load
from homl_rl.tf_setup import tf
from tf_agents.environments import tf_py_environment

TOLERANCE = 1e-5
N_STEPS = 100


def transitions(n=3000, seed=0, max_episode_steps=15):
    """``n`` CartPole transitions under a random policy, with ends and time-limit cuts."""
    env = gym.make("CartPole-v1", max_episode_steps=max_episode_steps)
    rng = np.random.default_rng(seed)
    rows = []
    state, _ = env.reset(seed=seed)
    while len(rows) < n:
        action = int(rng.integers(2))
        next_state, reward, terminated, truncated, _ = env.step(action)
        rows.append((state, action, reward, next_state, terminated, truncated))
        state = env.reset()[0] if terminated or truncated else next_state
    env.close()
    return [np.array(column) for column in zip(*rows)]


def as_trajectory(batch):
    """A batch of transitions as the two-step ``Trajectory`` TF-Agents' replay buffer yields:
    the first step's observation, action and reward, its discount (0 at an end, 1 otherwise,
    a time-limit cut included) and the next step's type and observation."""
    states, actions, rewards, next_states, dones, truncateds = batch
    n = len(actions)
    mid, last = np.full(n, ts.StepType.MID), np.full(n, ts.StepType.LAST)
    next_type = np.where(dones | truncateds, last, mid)
    return trajectory.Trajectory(
        step_type=tf.constant(np.stack([mid, next_type], axis=1), tf.int32),
        observation=tf.constant(np.stack([states, next_states], axis=1), tf.float32),
        action=tf.constant(np.stack([actions, actions], axis=1), tf.int64),
        policy_info=(),
        next_step_type=tf.constant(np.stack([next_type, mid], axis=1), tf.int32),
        reward=tf.constant(np.stack([rewards, np.zeros(n)], axis=1), tf.float32),
        discount=tf.constant(np.stack([1.0 - dones, np.ones(n)], axis=1), tf.float32))


@pytest.fixture(scope="module")
def tf_agents_run():
    """TF-Agents' tutorial agent trained on 100 batches: its initial weights, the batches, and
    its loss and weights after each step (and its final target weights)."""
    set_seeds(7)
    train_env = tf_py_environment.TFPyEnvironment(load("CartPole-v1", seed=7))
    q_net = make_q_net(train_env.action_spec())
    agent = make_tutorial_agent(train_env, q_net)  # builds q_net and copies it to the target
    initial = q_net.get_weights()
    data = transitions()
    rng = np.random.default_rng(1)
    batches = [[column[indices] for column in data]
               for indices in (rng.integers(len(data[0]), size=TF_AGENTS_CARTPOLE.batch_size)
                               for _ in range(N_STEPS))]
    losses, weights = [], []
    for batch in batches:
        losses.append(float(agent.train(as_trajectory(batch)).loss))
        weights.append(q_net.get_weights())
    assert int(agent.train_step_counter) == N_STEPS
    return {"agent": agent, "initial": initial, "batches": batches, "losses": losses,
            "weights": weights, "target": agent._target_q_network.get_weights()}


def our_agent(initial, config=TF_AGENTS_CARTPOLE, jit_compile=False):
    agent = PerStepDQN(config, n_actions=2, input_shape=(4,), jit_compile=jit_compile)
    agent.model.set_weights(initial)
    agent.update_target()
    agent.weights_changed()
    return agent


def test_the_agents_start_alike(tf_agents_run):
    """Same shapes, and the preset holds the defaults of ``DqnAgent`` the tutorial leaves as
    they are (read from its signature, so a TF-Agents that changed them fails here)."""
    import inspect

    from tf_agents.agents.dqn import dqn_agent
    ours = our_agent(tf_agents_run["initial"])
    assert ([w.shape for w in ours.model.get_weights()]
            == [w.shape for w in tf_agents_run["initial"]])
    defaults = {name: parameter.default for name, parameter in
                inspect.signature(dqn_agent.DqnAgent.__init__).parameters.items()}
    assert defaults["gamma"] == TF_AGENTS_CARTPOLE.gamma == 1.0
    assert defaults["target_update_tau"] == TF_AGENTS_CARTPOLE.tau == 1.0
    assert defaults["target_update_period"] == 1 and TF_AGENTS_CARTPOLE.target_update == "soft"
    assert defaults["epsilon_greedy"] == TF_AGENTS_CARTPOLE.epsilon_start == 0.1
    assert defaults["gradient_clipping"] is None and defaults["n_step_update"] == 1
    assert defaults["reward_scale_factor"] == 1.0
    theirs = tf_agents_run["agent"]
    assert theirs._gamma == 1.0 and theirs._epsilon_greedy == 0.1


@pytest.mark.parametrize("jit_compile", [False, True], ids=["compiled", "xla"])
def test_same_losses_and_weights_over_100_training_steps(tf_agents_run, jit_compile):
    """Step by step, to 1e-5 (measured on the reference stack: equal bit for bit without XLA;
    within a few float32 ulps with it)."""
    ours = our_agent(tf_agents_run["initial"], jit_compile=jit_compile)
    for step, batch in enumerate(tf_agents_run["batches"]):
        their_loss = tf_agents_run["losses"][step]
        our_loss = ours.train_on(Experiences(*batch))[0]
        assert abs(our_loss - their_loss) <= TOLERANCE * max(1.0, abs(their_loss)), step
        for our_weight, their_weight in zip(ours.model.get_weights(),
                                            tf_agents_run["weights"][step]):
            np.testing.assert_allclose(our_weight, their_weight, rtol=0, atol=TOLERANCE)
    # their target network follows their online one after every step; so does ours
    for our_target, their_target in zip(ours.target.get_weights(), tf_agents_run["target"]):
        np.testing.assert_allclose(our_target, their_target, rtol=0, atol=TOLERANCE)
    # the weights did move: the agreement is not between two frozen networks
    moved = [np.abs(w - w0).max() for w, w0 in zip(ours.model.get_weights(),
                                                    tf_agents_run["initial"])]
    assert min(moved) > 100 * TOLERANCE


@pytest.mark.parametrize("changes", [{"gamma": 0.99}, {"loss": "huber"}, {"truncation_is_terminal": True}, {"optimizer": "nadam"}])
def test_another_setting_is_told_apart(tf_agents_run, changes):
    """The tolerance tells settings apart: with one of DqnAgent's settings changed, one
    training step already moves the weights by more than it."""
    from dataclasses import replace
    batch = Experiences(*tf_agents_run["batches"][0])
    agents = [our_agent(tf_agents_run["initial"], config)
              for config in (TF_AGENTS_CARTPOLE, replace(TF_AGENTS_CARTPOLE, **changes))]
    for agent in agents:
        agent.train_on(batch)
    gaps = [np.max(np.abs(a - b)) for a, b in zip(*(agent.model.get_weights() for agent in agents))]
    assert max(gaps) > 10 * TOLERANCE
