"""Markov chains, the MDP, Q-value iteration and Q-learning (homl_rl.markov)."""

import numpy as np
import pytest

from homl_rl import markov
from homl_rl.markov import (format_chain, q_learning, q_value_iteration, run_chain, run_chains,
                            step)

# The notebook's printout of its ten runs after np.random.seed(42).
NOTEBOOK_RUNS = """\
Run #1: 0 0 3
Run #2: 0 1 2 1 2 1 2 1 2 1 3
Run #3: 0 1 2 1 2 1 2 1 2 1 2 1 2 1 2 1 2 1 2 1 2 1 3
Run #4: 0 3
Run #5: 0 1 2 1 2 1 2 1 2 1 2 1 2 1 2 1 3
Run #6: 0 1 3
Run #7: 0 1 2 1 2 1 2 1 2 1 2 1 2 1 2 1 2 1 2 1 2 1 2 1 2 1 2 1 2 1 2 1 2 1 2 1 2 1 2 1 2 1 2 1 2 1 2 1 2 1 2 1 3
Run #8: 0 0 0 1 2 1 2 1 3
Run #9: 0 1 2 1 2 1 2 1 2 1 2 1 2 1 2 1 2 1 2 1 2 1 3
Run #10: 0 0 0 1 2 1 3""".splitlines()


def test_ten_markov_chain_runs_match_the_notebook():
    assert [line.rstrip() for line in run_chains(n_runs=10, start_state=0, seed=42)] == NOTEBOOK_RUNS


def test_run_chain_returns_states_and_stops_at_terminal_state():
    np.random.seed(42)
    assert run_chain(0) == [0, 0, 3]
    assert run_chain(3) == [3]


def test_chain_that_never_terminates_is_cut_and_marked():
    states = run_chain(1, transition_probabilities=[[1, 0], [0, 1]], terminal_states=[0],
                       n_max_steps=5)
    assert states == [1, 1, 1, 1, 1]
    assert format_chain(states, terminal_states=[0]) == "1 1 1 1 1 ..."


def test_q_value_iteration_at_gamma_090_matches_the_notebook():
    Q_values, history = q_value_iteration(gamma=0.90)
    # notebook printout
    expected = [[18.91891892, 17.02702702, 13.62162162],
                [0.0, -np.inf, -4.87971488],
                [-np.inf, 50.13365013, -np.inf]]
    np.testing.assert_allclose(Q_values, expected, rtol=1e-9)
    assert Q_values.argmax(axis=1).tolist() == [0, 0, 1]
    assert history.shape == (50, 3, 3)
    assert np.all(history[0][np.isfinite(history[0])] == 0)


def test_q_value_iteration_at_gamma_095_prefers_action_2_in_state_1():
    Q_values, _ = q_value_iteration(gamma=0.95)
    # the notebook's text: state 1's best action becomes a2; table from our run (pinned stack)
    assert Q_values.argmax(axis=1).tolist() == [0, 2, 1]
    expected = [[21.73304188, 20.63807938, 16.70138772],
                [0.95462106, -np.inf, 1.01361207],
                [-np.inf, 53.70728682, -np.inf]]
    np.testing.assert_allclose(Q_values, expected, rtol=1e-8)


def test_q_learning_final_table_at_the_notebook_seed():
    Q_values, history = q_learning(n_iterations=10_000, seed=42)
    # our run on the pinned stack (np.random.seed(42), alpha0=0.05, decay=0.005, gamma=0.90)
    expected = [[18.77621289, 17.2238872, 13.74543343],
                [0.0, -np.inf, -8.00485647],
                [-np.inf, 49.40208921, -np.inf]]
    np.testing.assert_allclose(Q_values, expected, rtol=1e-8)
    assert history.shape == (10_000, 3, 3)
    assert Q_values.argmax(axis=1).tolist() == [0, 0, 1]


def test_step_draws_next_state_and_reward_from_the_tables():
    np.random.seed(0)
    outcomes = {step(2, 1) for _ in range(200)}
    assert outcomes == {(0, 40), (1, 0), (2, 0)}
    with pytest.raises(ValueError, match="action 1 is not possible in state 1"):
        step(1, 1)


@pytest.mark.parametrize("gamma", [-0.1, 1.5])
def test_gamma_outside_0_1_is_refused(gamma):
    with pytest.raises(ValueError, match=r"gamma .* must be in \[0, 1\]"):
        q_value_iteration(gamma=gamma)
    with pytest.raises(ValueError, match=r"must be in \[0, 1\]"):
        q_learning(gamma=gamma, n_iterations=1)


def test_transition_rows_that_do_not_sum_to_one_are_refused():
    bad = [row[:] if row is not None else None for row in markov.transition_probabilities]
    bad[0] = [[0.7, 0.2, 0.0], [1.0, 0.0, 0.0], [0.8, 0.2, 0.0]]
    with pytest.raises(ValueError, match=r"transition_probabilities\[0\]\[0\] must be probabilities summing to 1"):
        q_value_iteration(transition_probabilities=bad)
    with pytest.raises(ValueError, match="summing to 1"):
        run_chain(0, transition_probabilities=[[0.5, 0.4], [0, 1]], terminal_states=[1])
