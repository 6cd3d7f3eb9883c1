"""keras-rl2's policies and the DQNAgent methods its own examples use (homl_rl.keras_rl):
BoltzmannQPolicy, MaxBoltzmannQPolicy, LinearAnnealedPolicy, the agent given to its policies,
save_weights / load_weights."""

import builtins
import types

import numpy as np
import pytest

from homl_rl.keras_rl import (
    BoltzmannQPolicy, DQNAgent, EpsGreedyQPolicy, GreedyQPolicy, LinearAnnealedPolicy,
    MaxBoltzmannQPolicy, Policy, SequentialMemory, boltzmann_probabilities)
from homl_rl.seeding import set_seeds
from homl_rl.tf_setup import tf
from test_keras_rl import FixedLengthEnv, lecture_model, make_dqn, quietly

pytestmark = pytest.mark.filterwarnings("ignore:Not enough entries to sample without replacement")

SOFTMAX_123_OVER_2 = [0.1863237232258476, 0.30719588571849843, 0.506480391055654]
"""exp(q / 2) / sum(exp(q / 2)) of q = (1, 2, 3), worked out with Python's math.exp"""

SEED_0_UNIFORMS = [0.5488135039273248, 0.7151893663724195, 0.6027633760716439]
"""np.random.seed(0)'s first three np.random.random_sample() (NumPy's legacy generator, the
same on every NumPy)"""


def next_uniform():
    return np.random.random_sample()


# --- BoltzmannQPolicy ------------------------------------------------------------------------------

def test_boltzmann_probabilities_are_the_softmax_of_q_over_tau():
    policy = BoltzmannQPolicy(tau=2.)
    np.testing.assert_allclose(policy.probabilities(np.array([1., 2., 3.])), SOFTMAX_123_OVER_2,
                               rtol=1e-12)
    # tau = 1: the plain softmax; q / tau in float64 even for float32 Q-values
    probabilities = BoltzmannQPolicy().probabilities(np.array([0., np.log(3.)], np.float32))
    assert probabilities.dtype == np.float64
    np.testing.assert_allclose(probabilities, [0.25, 0.75], rtol=1e-7)


def test_boltzmann_clips_q_over_tau_before_the_exponential():
    # clip (-1, 1): q / tau = (5, -5) is read as (1, -1): e / (e + 1/e) = 0.8807970779778824
    np.testing.assert_allclose(BoltzmannQPolicy(clip=(-1., 1.)).probabilities(np.array([5., -5.])),
                               [0.8807970779778824, 1 - 0.8807970779778824], rtol=1e-12)
    # the default clip (-500, 500): exp stays finite where it would overflow ...
    probabilities = BoltzmannQPolicy().probabilities(np.array([1000., 0.]))
    assert probabilities[0] == 1.0
    np.testing.assert_allclose(probabilities[1], 7.124576406741286e-218, rtol=1e-12)  # exp(-500)
    # ... and two values beyond the bound are read as equal, as in keras-rl2
    np.testing.assert_array_equal(BoltzmannQPolicy().probabilities(np.array([800., 750.])),
                                  [0.5, 0.5])
    with np.errstate(over="ignore", invalid="ignore"):
        unclipped = boltzmann_probabilities(np.array([800., 750.]), clip=(-np.inf, np.inf))
    assert np.isnan(unclipped).all()


def test_boltzmann_draws_one_numpy_uniform_per_action_as_np_random_choice_does():
    policy = BoltzmannQPolicy(tau=2.)
    np.random.seed(0)
    # cumulative probabilities 0.186, 0.494, 1: the first uniform, 0.549, falls in the third
    assert policy.select_action(np.array([1., 2., 3.])) == 2
    assert next_uniform() == SEED_0_UNIFORMS[1]  # one uniform consumed, no more
    # the same sequence as keras-rl2's np.random.choice(range(nb_actions), p=probs)
    np.random.seed(1)
    ours = [policy.select_action(np.array([1., 2., 3.])) for _ in range(300)]
    np.random.seed(1)
    theirs = [np.random.choice(range(3), p=SOFTMAX_123_OVER_2) for _ in range(300)]
    assert ours == theirs


def test_boltzmann_action_frequencies_follow_the_probabilities():
    policy = BoltzmannQPolicy(tau=2.)
    np.random.seed(0)
    actions = [policy.select_action(np.array([1., 2., 3.])) for _ in range(20000)]
    np.testing.assert_allclose(np.bincount(actions, minlength=3) / 20000, SOFTMAX_123_OVER_2,
                               atol=0.01)


@pytest.mark.parametrize("kwargs, message", [
    ({"tau": 0}, "tau must be a positive number, got 0"),
    ({"tau": -1.}, "tau must be a positive number, got -1.0"),
    ({"tau": float("nan")}, "tau must be a positive number, got nan"),
    ({"clip": 500.}, r"clip must be a pair \(low, high\), got 500.0"),
    ({"clip": (1., -1.)}, r"clip must be a pair \(low, high\) with low <= high, got \(1.0, -1.0\)"),
    ({"clip": ("a", 1)}, r"clip must be a pair of numbers"),
])
def test_bad_boltzmann_settings_are_clear_errors(kwargs, message):
    with pytest.raises(ValueError, match=message):
        BoltzmannQPolicy(**kwargs)
    with pytest.raises(ValueError, match=message):
        MaxBoltzmannQPolicy(**kwargs)


def test_a_policy_takes_one_states_q_values():
    for policy in (BoltzmannQPolicy(), MaxBoltzmannQPolicy(), EpsGreedyQPolicy(), GreedyQPolicy()):
        with pytest.raises(ValueError, match=r"q_values must be 1-D, got shape \(1, 2\)"):
            policy.select_action(np.array([[1., 2.]]))
    policy = BoltzmannQPolicy()
    with pytest.raises(ValueError, match="tau must be a positive number, got 0"):
        policy.tau = 0  # what an annealing would set
    assert policy.get_config() == {"tau": 1., "clip": (-500., 500.)}


# --- MaxBoltzmannQPolicy ---------------------------------------------------------------------------

def test_max_boltzmann_is_boltzmann_with_probability_eps_and_greedy_otherwise():
    q_values = np.array([3., 2., 1.])  # probabilities 0.506, 0.307, 0.186 at tau 2
    np.random.seed(0)
    # first uniform 0.549 < eps 0.6: a Boltzmann draw, whose uniform 0.715 falls in the second
    assert MaxBoltzmannQPolicy(eps=.6, tau=2.).select_action(q_values) == 1
    assert next_uniform() == SEED_0_UNIFORMS[2]  # two uniforms consumed
    np.random.seed(0)
    # first uniform 0.549 >= eps 0.5: the argmax, one uniform consumed
    assert MaxBoltzmannQPolicy(eps=.5, tau=2.).select_action(q_values) == 0
    assert next_uniform() == SEED_0_UNIFORMS[1]
    np.random.seed(0)
    assert MaxBoltzmannQPolicy(eps=0.).select_action(q_values) == 0  # still draws its uniform
    assert next_uniform() == SEED_0_UNIFORMS[1]
    np.testing.assert_allclose(MaxBoltzmannQPolicy(tau=2.).probabilities(q_values),
                               SOFTMAX_123_OVER_2[::-1], rtol=1e-12)
    with pytest.raises(ValueError, match=r"eps must be in \[0, 1\], got 1.5"):
        MaxBoltzmannQPolicy(eps=1.5)
    assert MaxBoltzmannQPolicy().get_config() == {"eps": .1, "tau": 1., "clip": (-500., 500.)}


# --- LinearAnnealedPolicy ---------------------------------------------------------------------------

def annealed(agent_step=0, training=True, **kwargs):
    settings = dict(attr="eps", value_max=1., value_min=.1, value_test=.05, nb_steps=100)
    settings.update(kwargs)
    policy = LinearAnnealedPolicy(EpsGreedyQPolicy(), **settings)
    policy._set_agent(types.SimpleNamespace(training=training, step=agent_step))
    return policy


@pytest.mark.parametrize("step, value", [(0, 1.), (25, .775), (50, .55), (99, .109), (100, .1),
                                         (150, .1), (10 ** 6, .1)])
def test_linear_annealing_falls_from_value_max_to_value_min_over_nb_steps(step, value):
    assert annealed(step).get_current_value() == pytest.approx(value, rel=1e-12)


def test_annealing_outside_training_gives_value_test_and_sets_the_inner_attribute():
    policy = annealed(agent_step=50, training=False)
    assert policy.get_current_value() == .05
    np.random.seed(0)  # first uniform 0.549 >= 0.05: the argmax
    assert policy.select_action(q_values=np.array([0., 1.])) == 1
    assert policy.inner_policy.eps == .05
    policy.agent.training = True
    policy.select_action(q_values=np.array([0., 1.]))
    assert policy.inner_policy.eps == pytest.approx(.55)
    assert policy.metrics_names == ["mean_eps"] and policy.metrics == [policy.inner_policy.eps]
    # annealing a Boltzmann temperature
    tau = LinearAnnealedPolicy(BoltzmannQPolicy(), "tau", value_max=10., value_min=1.,
                               value_test=.5, nb_steps=9)
    tau._set_agent(types.SimpleNamespace(training=True, step=3))
    tau.select_action(q_values=np.array([0., 1.]))
    assert tau.inner_policy.tau == pytest.approx(7.) and tau.metrics_names == ["mean_tau"]


@pytest.mark.parametrize("kwargs, error, message", [
    ({"attr": "tau"}, ValueError, r"the inner policy \(EpsGreedyQPolicy\) has no attribute 'tau'"),
    ({"nb_steps": 0}, ValueError, "nb_steps must be a positive integer, got 0"),
    ({"value_max": .1, "value_min": 1.}, ValueError, "value_min must be <= value_max"),
    ({"value_test": None}, ValueError, "value_test must be a finite number, got None"),
])
def test_bad_annealing_settings_are_clear_errors(kwargs, error, message):
    with pytest.raises(error, match=message):
        annealed(**kwargs)


def test_an_annealed_policy_without_an_agent_says_so():
    policy = LinearAnnealedPolicy(EpsGreedyQPolicy(), "eps", 1., .1, .05, 100)
    with pytest.raises(RuntimeError, match="give it to a DQNAgent"):
        policy.select_action(q_values=np.array([0., 1.]))


class RecordingEpsGreedy(EpsGreedyQPolicy):
    """Records the eps of each action it selects."""

    def __init__(self):
        super().__init__()
        self.seen = []

    def select_action(self, q_values):
        self.seen.append(self.eps)
        return super().select_action(q_values)


def test_fit_anneals_by_the_agents_step_and_reports_mean_eps():
    inner = RecordingEpsGreedy()
    policy = LinearAnnealedPolicy(inner, "eps", value_max=1., value_min=.1, value_test=.05,
                                  nb_steps=4)
    dqn = make_dqn(policy=policy, nb_steps_warmup=6)
    assert policy.agent is dqn and dqn.test_policy.agent is dqn
    assert dqn.metrics_names == ["loss", "mae", "mean_q", "mean_eps"]
    _, out = quietly(dqn.fit, FixedLengthEnv(5), nb_steps=10, verbose=2)
    # steps 0..4, the episode's extra forward at step 5, steps 5..9, the extra at step 10
    np.testing.assert_allclose(inner.seen, [1., .775, .55, .325, .1, .1] + [.1] * 6)
    lines = out.splitlines()
    assert lines[1].endswith("loss: --, mae: --, mean_q: --, mean_eps: --")
    assert lines[2].endswith(", mean_eps: 0.100000")  # trained from step 7 on
    # test() acts with the test policy (greedy by default), as keras-rl2 does
    quietly(dqn.test, FixedLengthEnv(5), nb_episodes=1)
    assert len(inner.seen) == 12
    dqn.test_policy = policy
    quietly(dqn.test, FixedLengthEnv(5), nb_episodes=1)
    assert inner.seen[12:] == [.05] * 6


# --- the agent and its policies ------------------------------------------------------------------------

def test_the_agent_passes_q_values_by_keyword_to_any_policy_with_select_action():
    class KwargsPolicy(Policy):  # a keras-rl2-style policy of the reader's own
        def select_action(self, **kwargs):
            self.last = kwargs["q_values"]
            return 1

    policy = KwargsPolicy()
    dqn = make_dqn(policy=policy)
    quietly(dqn.fit, FixedLengthEnv(3), nb_steps=3, verbose=0)
    assert policy.agent is dqn and policy.last.shape == (2,)
    assert dqn.metrics_names == ["loss", "mae", "mean_q"]  # a policy without metrics adds none
    with pytest.raises(ValueError, match="a policy must have a select_action method"):
        make_dqn(policy=object())
    with pytest.raises(ValueError, match="processors are not supported"):
        make_dqn(processor=object())
    assert dqn.layers == dqn.model.layers and dqn.layers is not dqn.model.layers


# --- save_weights / load_weights -------------------------------------------------------------------------

def weights_equal(first, second):
    return all(np.array_equal(a, b) for a, b in zip(first, second, strict=True))


@pytest.mark.parametrize("name", ["dqn_weights.h5f", "dqn_weights.h5"])
def test_save_and_load_weights_round_trip_and_load_updates_the_target(tmp_path, name):
    path = str(tmp_path / name)
    trained = make_dqn(seed=0)
    quietly(trained.fit, FixedLengthEnv(5), nb_steps=30, verbose=0)
    trained.save_weights(path)
    other = make_dqn(seed=1)
    assert not weights_equal(other.model.get_weights(), trained.model.get_weights())
    other.load_weights(path)
    assert weights_equal(other.model.get_weights(), trained.model.get_weights())
    assert weights_equal(other.target_model.get_weights(), trained.model.get_weights())
    # before compile: compile's target starts from the loaded weights
    set_seeds(2)
    fresh = DQNAgent(model=lecture_model(), nb_actions=2, memory=SequentialMemory(100),
                     nb_steps_warmup=10, target_model_update=1e-2)
    fresh.load_weights(path)
    with pytest.raises(RuntimeError, match="compile"):
        fresh.update_target_model_hard()
    fresh.compile(tf.keras.optimizers.Adam(learning_rate=1e-3), metrics=["mae"])
    assert weights_equal(fresh.target_model.get_weights(), trained.model.get_weights())


def answer(monkeypatch, reply):
    """Answer Keras' overwrite question with ``reply`` (an exception: no terminal)."""
    asked = []

    def fake_input(prompt=""):
        asked.append(prompt)
        if isinstance(reply, BaseException):
            raise reply
        return reply

    monkeypatch.setattr(builtins, "input", fake_input)
    return asked


def test_save_weights_without_overwrite_asks_before_replacing_a_file(tmp_path, monkeypatch):
    """keras-rl2's save_weights is Keras' Model.save_weights: on an existing file with
    overwrite=False it asks; "n" keeps the old weights, "y" replaces them; overwrite=True
    does not ask; with no terminal the question is an EOFError."""
    path = str(tmp_path / "dqn_weights.h5f")
    dqn = make_dqn(seed=0)
    first = dqn.model.get_weights()
    asked = answer(monkeypatch, AssertionError("asked about a file that does not exist"))
    dqn.save_weights(path)  # no file yet: no question
    assert asked == []
    dqn.model.set_weights([weight + 1. for weight in first])
    second = dqn.model.get_weights()

    def saved():
        probe = make_dqn(seed=3)
        probe.load_weights(path)
        return probe.model.get_weights()

    asked = answer(monkeypatch, "n")
    dqn.save_weights(path, overwrite=False)
    assert len(asked) == 1 and "already exists - overwrite?" in asked[0]
    assert weights_equal(saved(), first)
    answer(monkeypatch, EOFError())
    with pytest.raises(EOFError):
        dqn.save_weights(path)
    assert weights_equal(saved(), first)
    asked = answer(monkeypatch, "y")
    dqn.save_weights(path)
    assert len(asked) == 1 and weights_equal(saved(), second)
    dqn.model.set_weights(first)
    asked = answer(monkeypatch, AssertionError("asked although overwrite=True"))
    dqn.save_weights(path, overwrite=True)
    assert asked == [] and weights_equal(saved(), first)
