"""TF-Agents environments on Gymnasium: the adapter, and the 2nd edition's custom environment.

TF-Agents' own ``suite_gym`` loads the old, unmaintained ``gym`` package. To give the
TF-Agents agents exactly the dynamics our Keras DQN sees, we wrap *Gymnasium*
environments instead: :class:`GymnasiumEnvironment` is a TF-Agents ``PyEnvironment``
whose specs come from the Gymnasium spaces, and :func:`load` plays the part of the
tutorial's ``suite_gym.load(env_name)``.

:class:`MyEnvironment` is the 2nd edition's "Creating a Custom TF-Agents Environment"
(a 4x4 grid).
"""

import numpy as np

from homl_rl.tf_setup import tf  # noqa: F401  (TensorFlow before tf_agents, the one way in)

import gymnasium as gym  # noqa: E402
from tf_agents.environments import py_environment, utils  # noqa: E402
from tf_agents.specs import array_spec  # noqa: E402
from tf_agents.trajectories import time_step as ts  # noqa: E402

from homl_rl.checks import check_unit_interval  # noqa: E402
from homl_rl.environments import make_env  # noqa: E402


def _simplify(bound):
    """A bound whose entries are all equal, as one number (as ``suite_gym`` does)."""
    first = bound.flat[0]
    return np.array(first, dtype=bound.dtype) if np.all(bound == first) else bound


def spec_from_space(space, name):
    """The TF-Agents ``BoundedArraySpec`` of a Gymnasium ``Discrete`` or ``Box`` space.

    Mirrors ``tf_agents.environments.gym_wrapper.spec_from_gym_space`` for the two
    spaces of the chapter: ``Discrete(n)`` becomes an ``int64`` scalar in ``[0, n-1]``
    (the tutorial's action spec), a ``Box`` keeps its shape, dtype and bounds.
    """
    if isinstance(space, gym.spaces.Discrete):
        if space.start != 0:
            raise ValueError(f"only Discrete spaces starting at 0 are supported, got {space}")
        return array_spec.BoundedArraySpec(shape=(), dtype=np.int64, minimum=0,
                                           maximum=int(space.n) - 1, name=name)
    if isinstance(space, gym.spaces.Box):
        minimum = _simplify(np.asarray(space.low, dtype=space.dtype))
        maximum = _simplify(np.asarray(space.high, dtype=space.dtype))
        if minimum.shape != maximum.shape:  # one simplified, the other not: keep both arrays
            minimum = np.asarray(space.low, dtype=space.dtype)
            maximum = np.asarray(space.high, dtype=space.dtype)
        return array_spec.BoundedArraySpec(shape=space.shape, dtype=space.dtype,
                                           minimum=minimum, maximum=maximum, name=name)
    raise ValueError(f"unsupported Gymnasium space {space}: this adapter handles Discrete and Box")


class GymnasiumEnvironment(py_environment.PyEnvironment):
    """A Gymnasium environment seen as a TF-Agents ``PyEnvironment``.

    - specs from the Gymnasium spaces (:func:`spec_from_space`);
    - ``terminated`` becomes ``ts.termination`` (discount 0: no value beyond the end),
      ``truncated`` becomes ``ts.truncation`` (discount ``discount``: the episode was
      cut, the state still has a value); both are ``StepType.LAST``;
    - seeding through Gymnasium's ``reset(seed=...)``: the first reset after
      construction or :meth:`seed` uses the seed, later resets continue the
      environment's random stream (as Gymnasium intends);
    - auto-reset: a ``step`` after a ``LAST`` time step resets (the base class does it,
      ``handle_auto_reset=True``) and ignores the action, as TF-Agents' drivers expect;
    - :meth:`render` passes through to Gymnasium's ``render()`` (make the environment
      with ``render_mode="rgb_array"``).
    """

    def __init__(self, gym_env, discount=1.0, seed=None):
        super().__init__(handle_auto_reset=True)
        check_unit_interval("discount", discount)
        self._env = gym_env
        self._discount = np.float32(discount)
        self._action_spec = spec_from_space(gym_env.action_space, "action")
        self._observation_spec = spec_from_space(gym_env.observation_space, "observation")
        self._next_seed = seed
        self._info = {}

    @property
    def gym(self):
        """The wrapped Gymnasium environment (``suite_gym``'s ``env.gym``)."""
        return self._env

    def observation_spec(self):
        return self._observation_spec

    def action_spec(self):
        return self._action_spec

    def seed(self, seed):
        """Seed the next ``reset`` (Gymnasium's ``reset(seed=seed)``)."""
        self._next_seed = seed
        self._env.action_space.seed(seed)
        return [seed]

    def get_info(self):
        """The ``info`` dict of the last ``reset`` or ``step``."""
        return self._info

    def _observation(self, obs):
        return np.asarray(obs, dtype=self._observation_spec.dtype)

    def _reset(self):
        obs, self._info = self._env.reset(seed=self._next_seed)
        self._next_seed = None
        return ts.restart(self._observation(obs))

    def _step(self, action):
        action = np.asarray(action)
        if not self._action_spec.check_array(action):
            raise ValueError(f"action {action.tolist()!r} is not in the action spec {self._action_spec}")
        obs, reward, terminated, truncated, self._info = self._env.step(action.item())
        obs, reward = self._observation(obs), np.float32(reward)
        if terminated:
            return ts.termination(obs, reward)
        if truncated:
            return ts.truncation(obs, reward, self._discount)
        return ts.transition(obs, reward, self._discount)

    def render(self, mode="rgb_array"):
        if mode != "rgb_array":
            raise ValueError(f"only mode='rgb_array' is supported, got {mode!r}")
        return self._env.render()

    def close(self):
        self._env.close()


def load(env_id, discount=1.0, seed=None, render_mode="rgb_array", gym_env_wrappers=(),
         **make_kwargs):
    """The tutorial's ``suite_gym.load(env_name)`` on Gymnasium.

    ``gym.make(env_id, render_mode=render_mode, **make_kwargs)`` (an unknown id is a
    clear error listing close ids), then each of ``gym_env_wrappers`` in order, then
    :class:`GymnasiumEnvironment`. Gymnasium's own ``TimeLimit`` (from the registry's
    ``max_episode_steps``) truncates episodes; the adapter turns that into a TF-Agents
    truncation.
    """
    env = make_env(env_id, render_mode=render_mode, **make_kwargs)
    for wrapper in gym_env_wrappers:
        env = wrapper(env)
    return GymnasiumEnvironment(env, discount=discount, seed=seed)


def validate(environment, episodes=5):
    """TF-Agents' ``utils.validate_py_environment``: every time step matches the specs."""
    utils.validate_py_environment(environment, episodes=episodes)
    return environment


class MyEnvironment(py_environment.PyEnvironment):
    """The 2nd edition's custom TF-Agents environment ("Creating a Custom TF-Agents Environment").

    A 4x4 grid: the agent starts at (0, 0) and must reach (3, 3). Actions: up (0),
    down (1), left (2), right (3). The observation is the one-hot 4x4 grid of the
    agent's position (all zeros once it has left the grid). Leaving the grid ends the
    episode with reward -1, reaching (3, 3) ends it with +10; every other step gives 0.

    The book's code, with one addition: ``handle_auto_reset=True``, so a ``step``
    after the last time step starts a new episode (the book's class, made when
    auto-reset was the default, would keep walking off the grid).
    """

    MOVES = [(-1, 0), (+1, 0), (0, -1), (0, +1)]
    """row/column change of up, down, left, right"""

    def __init__(self, discount=1.0):
        super().__init__(handle_auto_reset=True)  # the book's super().__init__() predates it
        self._action_spec = array_spec.BoundedArraySpec(
            shape=(), dtype=np.int32, name="action", minimum=0, maximum=3)
        self._observation_spec = array_spec.BoundedArraySpec(
            shape=(4, 4), dtype=np.int32, name="observation", minimum=0, maximum=1)
        self.discount = discount

    def action_spec(self):
        return self._action_spec

    def observation_spec(self):
        return self._observation_spec

    def _reset(self):
        self._state = np.zeros(2, dtype=np.int32)
        obs = np.zeros((4, 4), dtype=np.int32)
        obs[self._state[0], self._state[1]] = 1
        return ts.restart(obs)

    def _step(self, action):
        self._state += self.MOVES[int(action)]
        reward = 0
        obs = np.zeros((4, 4), dtype=np.int32)
        done = (self._state.min() < 0 or self._state.max() > 3)
        if not done:
            obs[self._state[0], self._state[1]] = 1
        if done or np.all(self._state == np.array([3, 3])):
            reward = -1 if done else +10
            return ts.termination(obs, reward)
        else:
            return ts.transition(obs, reward, self.discount)
