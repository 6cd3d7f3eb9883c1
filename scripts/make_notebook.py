"""Write ``notebooks/18_reinforcement_learning.ipynb``, the chapter walked with homl_rl.

The notebook is generated, not edited by hand: its cells are the list below, in the
chapter's order, and the file is written without outputs and with fixed cell ids, so
that running this script twice gives the same bytes and a change to the notebook is a
reviewable change to this file::

    python scripts/make_notebook.py          # (re)write the notebook
    python scripts/make_notebook.py --check  # exit 1 if the committed file differs

Cells whose printout ``tests/test_notebook.py`` checks carry a tag (cell metadata
``tags``) naming what they print; the test finds them by that tag.
"""

import argparse
import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "18_reinforcement_learning.ipynb"

N_VARIANT_EPISODES = 400
"""Episodes for each DQN variant after the first (the book plays 600)."""

N_LANDER_ITERATIONS = 10
"""Exercise 8's iterations here (the book's solution runs 200)."""


def md(text):
    return ("md", text.strip("\n"), None)


def code(text, tag=None):
    return ("code", text.strip("\n"), tag)


CELLS = [
    md("""
# Chapter 18 – Reinforcement Learning, with `homl_rl`

This notebook walks through chapter 18 of *Hands-On Machine Learning* in the book's order,
using `homl_rl`, the reference implementation of the chapter's code. Each section shows the
call (with the book's names: `basic_policy`, `discount_rewards`, `q_value_iteration`,
`train_dqn`, …), its figure, and the numbers it prints. With seed 42 those numbers are the
book notebook's own.

The training runs use `homl_rl`'s *fast engines*: they repeat the book's arithmetic and random
draws without TensorFlow's per-step overhead, so the whole notebook runs in a few minutes on a
laptop CPU instead of hours. Some runs are shorter than the book's; the text says where.

TensorFlow's float kernels differ between processors (`python -m homl_rl.kernels` names your
machine's class: `x86-avx512`, `x86-avx2` or `other`). The policy-gradient engine replays the
kernels of each class measured (AVX-512 and AVX2) and checks at start-up which one is your
machine's; the DQN's fast engine is exact on any processor. The training numbers quoted here
were made on an AVX-512 machine: on another class some curves may differ slightly from some
episode on; the environment, the hard-coded policy and the MDP sections are the same everywhere.
"""),
    md("""
## Setup

In Colab, the first cell installs `homl_rl` (with the Box2D extra, for the lunar lander of
exercise 8) from its git repository. `homl_rl` has no public repository URL yet: set
`REPO_URL` to it. Elsewhere, install `homl_rl` into the Python that runs this notebook first
(`pip install "homl_rl[box2d]"` from a clone); the cell then does nothing.
"""),
    code('''
import sys

REPO_URL = "<no public URL yet: put the git URL of homl_rl here>"

if "google.colab" in sys.modules:
    if REPO_URL.startswith("<"):
        raise RuntimeError("homl_rl has no public URL yet: set REPO_URL to its git repository")
    %pip install -q "homl_rl[box2d] @ git+{REPO_URL}"
'''),
    md("""
The chapter's code is Keras 2 code. TensorFlow 2.15 ships Keras 2 as `tf.keras`; from
TensorFlow 2.16 on, `tf.keras` is Keras 3 unless `TF_USE_LEGACY_KERAS=1` is set *before*
TensorFlow is imported (and the `tf_keras` package is installed, as in Colab). The book's
notebook sets that variable unconditionally; `homl_rl.tf_setup` sets it only where TensorFlow
is 2.16 or newer (on 2.15 it would make TensorFlow look for `tf_keras`), then imports
TensorFlow. So import TensorFlow through it, before anything else that might import it:
"""),
    code('''
from homl_rl.tf_setup import tf  # sets TF_USE_LEGACY_KERAS=1 where TensorFlow >= 2.16

import functools
import importlib.metadata
import inspect
import os

import matplotlib.pyplot as plt
import numpy as np

keras_package = tf.keras.__name__.split(".")[0]  # keras (TF 2.15) or tf_keras (TF >= 2.16)
print("TensorFlow", tf.__version__, "| tf.keras is", keras_package,
      importlib.metadata.version(keras_package),
      "| TF_USE_LEGACY_KERAS =", os.environ.get("TF_USE_LEGACY_KERAS"))
'''),
    md("""
## Introduction to Gymnasium

`make_env` is `gym.make` with a clear error for a mistyped id. `render_mode="rgb_array"` lets
us render frames as NumPy arrays. Resetting with `seed=42` gives the book's first observation:
the cart's position and velocity, the pole's angle and angular velocity.
"""),
    code('''
from homl_rl.environments import make_env, plot_environment

env = make_env("CartPole-v1", render_mode="rgb_array")
obs, info = env.reset(seed=42)
obs
''', tag="reset_obs"),
    code('''
img = env.render()
img.shape  # height, width, channels (RGB)
'''),
    code('''
env.action_space  # 0: push the cart left, 1: push it right
'''),
    md("""
The pole leans right (`obs[2] > 0`), so let's push the cart right, with one step, and plot the
environment with the book's `plot_environment` helper (the chapter's `cart_pole_plot`):
"""),
    code('''
action = 1  # accelerate right
obs, reward, done, truncated, info = env.step(action)
print("obs:", obs)
print("reward:", reward, "| done:", done, "| truncated:", truncated)
plot_environment(env)
plt.show()
''', tag="step_obs"),
    md("""
## A simple hard-coded policy

`basic_policy` pushes the cart the way the pole leans. `evaluate_policy` plays it for 500
episodes (episode *i* starts with `reset(seed=i)`, at most 200 steps each) and returns the
total reward of each episode:
"""),
    code('''
from homl_rl.environments import basic_policy, episode_statistics, evaluate_policy

print(inspect.getsource(basic_policy))
'''),
    code('''
totals = evaluate_policy(basic_policy, n_episodes=500, n_max_steps=200)
episode_statistics(totals)  # np.mean(totals), np.std(totals), min(totals), max(totals)
''', tag="basic_policy_stats"),
    md("""
Even with 500 tries this policy never keeps the pole up for more than 63 steps: it reacts to
the angle alone and lets the pole swing wider and wider. (`homl_rl.animation.show_one_episode(basic_policy)`
plays one episode as an animation, and `python -m homl_rl figures --only basic_policy` saves it
as a GIF; this notebook shows no animations, to stay small.)
"""),
    md("""
## Neural network policies

`policy_net` is the book's network: 4 inputs, a hidden layer of 5 ReLU units and one sigmoid
output, the probability of going left. `pg_policy` samples the action from it (right when a
uniform draw exceeds p(left)), so even a good network explores a little. Untrained, the network
is about as good as a coin:
"""),
    code('''
from homl_rl.nn_policy import pg_policy, policy_net

model = policy_net(seed=42)
model.build((None, 4))
model.summary()
'''),
    code('''
obs, info = env.reset(seed=42)
print("p(left) for the first observation:", float(model(obs[np.newaxis])[0, 0]))

np.random.seed(42)
untrained_totals = evaluate_policy(functools.partial(pg_policy, model=model), n_episodes=20)
print("untrained policy net, 20 episodes (mean, std, min, max):",
      episode_statistics(untrained_totals))
'''),
    md("""
## Policy gradients

REINFORCE plays a few episodes with the current policy, keeps the gradient that would make
each chosen action more likely, and then weighs each step's gradient by how good the action
turned out to be: the step's *discounted* return, normalized over all the episodes played.
`discount_rewards` and `discount_and_normalize_rewards` are the book's functions; here with the
book's examples:
"""),
    code('''
from homl_rl.policy_gradients import (discount_and_normalize_rewards, discount_rewards,
                                      train_policy_gradients)

discount_rewards([10, 0, -50], discount_factor=0.8)
''', tag="discount_rewards"),
    code('''
discount_and_normalize_rewards([[10, 0, -50], [10, 20]], discount_factor=0.8)
''', tag="discount_and_normalize_rewards"),
    md("""
`train_policy_gradients` is the book's training cell: 150 iterations of 10 episodes each,
discount factor 0.95, Nadam with learning rate 0.01, seed 42. The book's cell takes about ten
minutes (one eager `GradientTape` per step); `engine="fast"` replays the same float32 arithmetic
and random draws in NumPy, in seconds. `fast_engine_is_exact` checks at start-up, on a few
probes, that the replica gives TensorFlow's bits on this machine:
"""),
    code('''
from homl_rl.engines.policy_gradients import fast_engine_is_exact

print("fast engine proven exact here:", fast_engine_is_exact("CartPole-v1"))
mean_rewards, pg_model = train_policy_gradients(n_iterations=150, engine="fast", progress=False)
print("first 10 iterations:", mean_rewards[:10])
print("last 5 iterations:", mean_rewards[-5:])
print("sum over the 150 iterations:", sum(mean_rewards))
''', tag="policy_gradients_run"),
    code('''
from homl_rl.figures.policy_gradients import plot_mean_rewards

plot_mean_rewards(mean_rewards, title="REINFORCE on CartPole")
plt.show()
'''),
    md("""
The trained network keeps the pole up far longer than `basic_policy` (its actions are still
sampled, so some episodes end early):
"""),
    code('''
np.random.seed(42)
trained_totals = evaluate_policy(functools.partial(pg_policy, model=pg_model), n_episodes=10)
print("trained policy net, 10 episodes (mean, std, min, max):", episode_statistics(trained_totals))
'''),
    md("""
## Markov chains

A Markov chain has states and fixed transition probabilities, and no actions. The chapter's
chain (Figure 18-7) has four states; state 3 is terminal. `run_chains` runs it ten times from
state 0 after `np.random.seed(42)` and prints the states visited, as the book does:
"""),
    code('''
from homl_rl.markov import chain_transition_probabilities, run_chains

print(np.array(chain_transition_probabilities))
for line in run_chains(n_runs=10, start_state=0, seed=42):
    print(line)
''', tag="run_chains"),
    md("""
## Markov decision processes and Q-value iteration

The MDP of Figure 18-8 adds actions and rewards: `transition_probabilities[s][a][s']`,
`rewards[s][a][s']` and `possible_actions[s]`. Q-value iteration applies the Bellman update to
every (state, action) pair until the values settle; impossible actions keep a Q-value of
`-inf`. With a discount factor of 0.90:
"""),
    code('''
from homl_rl.markov import possible_actions, q_value_iteration, rewards, transition_probabilities

possible_actions  # the actions of states 0, 1 and 2
'''),
    code('''
Q_values, history1 = q_value_iteration(gamma=0.90)
Q_values
''', tag="q_value_iteration"),
    code('''
Q_values.argmax(axis=1)  # the optimal action for each state
''', tag="best_actions"),
    md("""
In state 0 the best action is a0, in state 1 staying put (a0) rather than crossing the fire,
in state 2 the only action, a1. With a discount factor of 0.95 the future weighs more, and in
state 1 walking through the fire (a2) becomes worth it:
"""),
    code('''
Q_values_095, _ = q_value_iteration(gamma=0.95)
Q_values_095.argmax(axis=1)
''', tag="best_actions_095"),
    md("""
## Q-learning

Q-learning learns the same Q-values without knowing the transition probabilities or the
rewards: it watches an agent explore (here at random, with `exploration_policy` and the MDP's
`step`) and moves each Q-value estimate towards `reward + gamma * max Q(next state)`, with a
learning rate that decays over the 10,000 iterations:
"""),
    code('''
from homl_rl.markov import q_learning

Q_values_learned, history2 = q_learning(n_iterations=10_000, seed=42)
Q_values_learned
''', tag="q_learning"),
    code('''
Q_values_learned.argmax(axis=1)
'''),
    md("""
Figure 18-9 follows Q(s0, a0) during both algorithms: Q-value iteration converges in a few
dozen iterations, Q-learning needs thousands of steps (`homl_rl.figures.markov.q_value_plot`
runs both again and draws the figure):
"""),
    code('''
from homl_rl.figures.markov import q_value_plot

figure, data = q_value_plot()
plt.show()
print("true Q(s0, a0):", float(data["true_Q_value"]))
'''),
    md("""
## Deep Q-learning: the replay buffer

For CartPole the table of Q-values becomes a network, `build_q_network` (two hidden layers of
32 ELU units, one output per action). A DQN learns from experiences
`(state, action, reward, next_state, done, truncated)` kept in a replay buffer — the book's is a
`deque(maxlen=2000)` — and sampled at random (`sample_experiences`), so that a training batch
is not a run of correlated consecutive steps. `NumpyReplayBuffer` keeps the same experiences in
preallocated arrays and gives the same batch for the same random draw:
"""),
    code('''
from collections import deque

from homl_rl.dqn import build_q_network
from homl_rl.replay_buffers import NumpyReplayBuffer, sample_experiences

replay_buffer = deque(maxlen=2000)
numpy_buffer = NumpyReplayBuffer(2000)
state, info = env.reset(seed=42)
env.action_space.seed(42)
for step in range(100):
    action = env.action_space.sample()
    next_state, reward, done, truncated, info = env.step(action)
    experience = (state, action, reward, next_state, done, truncated)
    replay_buffer.append(experience)
    numpy_buffer.append(experience)
    state = next_state if not (done or truncated) else env.reset()[0]

np.random.seed(42)
batch = sample_experiences(replay_buffer, batch_size=32)
np.random.seed(42)
numpy_batch = numpy_buffer.sample(32)
print("batch shapes:", [array.shape for array in batch])
print("same batch from both buffers:",
      all(np.array_equal(a, b) for a, b in zip(batch, numpy_batch)))
'''),
    code('''
build_q_network(input_shape=(4,), n_outputs=2).summary()
'''),
    md("""
## Deep Q-network

`train_dqn("dqn")` is the book's training loop: 600 episodes of at most 200 steps, an
ε-greedy policy with ε decaying linearly from 1 to 0.01 over 500 episodes, and after episode 50
one training step per episode (a batch of 32, discount factor 0.95, Nadam at 0.01). The book's
names are methods of the returned agent: `agent.epsilon_greedy_policy`, `agent.play_one_step`,
`agent.training_step`. It returns the run's history (each episode's sum of rewards and length,
the losses, the config and seed it ran with); like the book's `rewards` list,
`history.last_steps` records each episode's last step index, so a full 200-step episode shows
as 199. The best weights are restored at the end. The full run, with the fast engine:
"""),
    code('''
from homl_rl.dqn import train_dqn
from homl_rl.figures.dqn import plot_rewards

history, agent = train_dqn("dqn", n_episodes=600, engine="fast", progress=False,
                           return_agent=True)
rewards = history.last_steps  # the book's rewards list
print("first 20 episodes:", rewards[:20])
print("sum over the 600 episodes:", sum(rewards))
print("best:", max(rewards), "first reached at episode", rewards.index(max(rewards)))
''', tag="dqn_run"),
    code('''
plot_rewards(rewards)  # Figure 18-10
plt.title("DQN")
plt.show()
'''),
    md("""
The curve shows the chapter's point: DQN learns, then forgets (catastrophic forgetting), then
learns again; its progress is far from monotonic. The restored best weights, played greedily
(ε = 0):
"""),
    code('''
greedy_totals = evaluate_policy(agent.epsilon_greedy_policy, n_episodes=10)
print("greedy DQN, 10 episodes (mean, std, min, max):", episode_statistics(greedy_totals))
'''),
    md(f"""
## DQN variants

The three variants change one computation, the value of the next state in the target
(`max_next_Q_values`), and the dueling one also the network. To stay within a few minutes, each
variant plays {N_VARIANT_EPISODES} episodes here instead of the book's 600: its first
{N_VARIANT_EPISODES} episodes are those of the book's run, which is where the variants start
to learn (the full runs: `python -m homl_rl figures --only double_dqn_rewards_plot`, and so on).
"""),
    code(f'''
N_VARIANT_EPISODES = {N_VARIANT_EPISODES}  # the book plays 600
variant_rewards = {{}}
'''),
    md("""
### Fixed Q-value targets

A second network, the *target*, computes the next-state values; it is a copy of the online
network refreshed every 50 episodes, so the targets stop chasing the network being trained.
"""),
    code('''
variant_rewards["fixed_q_targets"] = train_dqn(
    "fixed_q_targets", n_episodes=N_VARIANT_EPISODES, engine="fast", progress=False)[0].last_steps
print("first 20 episodes:", variant_rewards["fixed_q_targets"][:20])
print("sum:", sum(variant_rewards["fixed_q_targets"]))
plot_rewards(variant_rewards["fixed_q_targets"])
plt.title("Fixed Q-value targets")
plt.show()
''', tag="fixed_q_targets_run"),
    md("""
### Double DQN

The online network picks the best next action, the target network says what it is worth:
taking the max of one noisy estimate overestimates Q-values, and splitting the two roles
reduces that bias.
"""),
    code('''
variant_rewards["double_dqn"] = train_dqn(
    "double_dqn", n_episodes=N_VARIANT_EPISODES, engine="fast", progress=False)[0].last_steps
print("first 20 episodes:", variant_rewards["double_dqn"][:20])
print("sum:", sum(variant_rewards["double_dqn"]))
plot_rewards(variant_rewards["double_dqn"])
plt.title("Double DQN")
plt.show()
''', tag="double_dqn_run"),
    md("""
### Dueling Double DQN

The dueling network estimates the state's value V(s) and each action's advantage A(s, a)
separately, and adds them: Q(s, a) = V(s) + A(s, a) − max A(s, ·). It trains with the Double
DQN target and a learning rate of 0.005. (`train_dqn` reseeds before this run, as for the other
variants; the book's cell continues from the previous cells' random state.)
"""),
    code('''
variant_rewards["dueling_double_dqn"] = train_dqn(
    "dueling_double_dqn", n_episodes=N_VARIANT_EPISODES, engine="fast", progress=False)[0].last_steps
print("first 20 episodes:", variant_rewards["dueling_double_dqn"][:20])
print("sum:", sum(variant_rewards["dueling_double_dqn"]))
plot_rewards(variant_rewards["dueling_double_dqn"])
plt.title("Dueling Double DQN")
plt.show()
''', tag="dueling_double_dqn_run"),
    md("""
## Exercise 8: REINFORCE on LunarLander

The same training loop with a softmax policy over the lander's four actions
(`train_lander`: 16 episodes per iteration, up to 1,000 steps each, discount factor 0.99).
The book's solution runs 200 iterations; here only the first few, to see it start:
"""),
    code(f'''
from homl_rl.policy_gradients import train_lander

lander_mean_rewards, lander_model = train_lander(n_iterations={N_LANDER_ITERATIONS}, engine="fast",
                                                 progress=False)
print("mean rewards:", lander_mean_rewards)
plot_mean_rewards(lander_mean_rewards, title="REINFORCE on LunarLander (first iterations)")
plt.show()
''', tag="lander_run"),
    md("""
## TF-Agents and Breakout (not run here)

The rest of the chapter trains agents on Atari's Breakout, for hours, and uses the TF-Agents
library. TF-Agents 0.19 (with Reverb) needs TensorFlow 2.15, so that part runs only on
`homl_rl`'s reference stack (Python 3.11, `requirements.txt`), from the command line:

```bash
python -m homl_rl tf-agents           # the TF-Agents DQN tutorial on CartPole
python -m homl_rl compare             # TF-Agents' DQN vs the Keras DQN variants above
python -m homl_rl breakout-tf-agents  # the 2nd edition's TF-Agents DQN on Breakout (hours)
python -m homl_rl breakout            # exercise 9: a Keras Double Dueling DQN on Breakout
python -m homl_rl figures --list      # every figure and animation of the chapter
```

Having typed the chapter's code yourself, `python -m homl_rl crosscheck your_notebook.ipynb`
compares it with `homl_rl`'s, function by function, at the same seeds.
"""),
    code('''
env.close()
'''),
]


def make_notebook():
    """The notebook: :data:`CELLS`, no outputs, fixed cell ids, a Python 3 kernel."""
    cells = []
    for index, (kind, source, tag) in enumerate(CELLS):
        if kind == "md":
            cell = new_markdown_cell(source)
        else:
            cell = new_code_cell(source)
            if tag:
                cell.metadata["tags"] = [tag]
        cell.id = f"cell-{index:02d}"
        cells.append(cell)
    notebook = new_notebook(cells=cells, metadata={
        "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
    })
    nbformat.validate(notebook)
    return notebook


def render():
    """The notebook file's text."""
    return nbformat.writes(make_notebook()) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true",
                        help="exit 1 if the committed notebook is not what this script writes")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        if not NOTEBOOK.exists() or NOTEBOOK.read_text(encoding="utf-8") != text:
            print(f"{NOTEBOOK} is out of date: run python scripts/make_notebook.py", file=sys.stderr)
            return 1
        print(f"{NOTEBOOK} is up to date")
        return 0
    NOTEBOOK.parent.mkdir(parents=True, exist_ok=True)
    NOTEBOOK.write_text(text, encoding="utf-8")
    print(f"wrote {NOTEBOOK} ({len(CELLS)} cells)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
