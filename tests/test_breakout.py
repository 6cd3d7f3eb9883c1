"""Exercise 9: the Keras Double Dueling DQN on Breakout (homl_rl.breakout)."""

import numpy as np
import pytest

from homl_rl.breakout import build_dueling_conv_q_network, double_dqn_targets
from homl_rl.replay_buffers import (FrameReplayBuffer, frame_ring_bytes_per_transition,
                                    naive_bytes_per_transition)


def _recorded_sequence(episode_lengths, seed=0, size=6, stack=4):
    """Synthetic episodes as FrameStackObservation produces them: the reset frame four
    times, then the stack shifts by one new frame per step. Each frame is tagged with
    its episode and step so a mixed stack shows."""
    rng = np.random.default_rng(seed)
    episodes = []
    for episode, length in enumerate(episode_lengths):
        frames = rng.integers(0, 256, (length + 1, size, size), dtype=np.uint8)
        frames[:, 0, 0], frames[:, 0, 1] = episode, np.arange(length + 1)
        obs = [np.stack([frames[0]] * stack, axis=-1)]
        for t in range(1, length + 1):
            obs.append(np.concatenate([obs[-1][..., 1:], frames[t][..., None]], axis=-1))
        actions = rng.integers(0, 4, length)
        rewards = rng.integers(-1, 2, length).astype(np.float32)
        episodes.append((obs, actions, rewards))
    return episodes


def _fill(buffer, episodes):
    """Add the episodes; return the naive (stacked) transitions in the same order."""
    naive = []
    for obs, actions, rewards in episodes:
        buffer.start_episode(obs[0])
        for t, (action, reward) in enumerate(zip(actions, rewards)):
            done = t == len(actions) - 1
            buffer.add(action, reward, obs[t + 1], done)
            naive.append((obs[t], action, reward, obs[t + 1], float(done)))
    return naive


def _assert_same(buffer, ids, naive):
    states, actions, rewards, next_states, dones, truncateds = buffer.get(ids)
    for k, i in enumerate(ids):
        s, a, r, s2, d = naive[i]
        np.testing.assert_array_equal(states[k], s)
        np.testing.assert_array_equal(next_states[k], s2)
        assert (actions[k], rewards[k], dones[k]) == (a, r, d)


def test_frame_ring_states_equal_naive_stacking_across_episode_boundaries():
    episodes = _recorded_sequence([5, 1, 2, 7])  # a 1-step episode, short ones
    buffer = FrameReplayBuffer(100, frame_shape=(6, 6))
    naive = _fill(buffer, episodes)
    assert len(buffer) == len(naive) == 15
    _assert_same(buffer, np.arange(len(naive)), naive)
    states, _, _, next_states, _, _ = buffer.get(np.arange(len(naive)))
    for stacked in (states, next_states):  # no stack mixes frames of two episodes
        assert all(len(set(s[0, 0, :])) == 1 for s in stacked)


def test_frame_ring_evicts_oldest_transitions_at_capacity():
    episodes = _recorded_sequence([9, 3, 12, 4], seed=1)
    buffer = FrameReplayBuffer(10, frame_shape=(6, 6), rng=np.random.default_rng(0))
    naive = _fill(buffer, episodes)
    assert len(buffer) <= 10 and buffer.head == len(naive) == 28
    kept = np.arange(buffer.tail, buffer.head)
    oldest_frame = buffer.n_frames - buffer.frame_capacity
    assert buffer.first_frame[buffer.tail % 10] >= oldest_frame  # kept ones are intact
    assert buffer.first_frame[(buffer.tail - 1) % 10] < oldest_frame  # evicted only if needed
    assert len(kept) == 6  # the window of 14 frames: the last episode's 8 frames, then 2 more
    _assert_same(buffer, kept, naive)
    with pytest.raises(IndexError):
        buffer.get([buffer.tail - 1])
    batch = buffer.sample(64)
    assert batch[0].shape == (64, 6, 6, 4) and batch[0].dtype == np.uint8


def test_frame_ring_state_dict_round_trip():
    episodes = _recorded_sequence([6, 8], seed=2)
    buffer = FrameReplayBuffer(8, frame_shape=(6, 6))
    naive = _fill(buffer, episodes)
    copy = FrameReplayBuffer(8, frame_shape=(6, 6))
    copy.load_state_dict({k: np.array(v) for k, v in buffer.state_dict().items()})
    _assert_same(copy, np.arange(copy.tail, copy.head), naive)


def test_frame_ring_needs_an_episode_start():
    buffer = FrameReplayBuffer(4, frame_shape=(6, 6))
    with pytest.raises(RuntimeError, match="start_episode"):
        buffer.add(0, 0.0, np.zeros((6, 6, 4), np.uint8), False)
    with pytest.raises(ValueError, match="capacity"):
        FrameReplayBuffer(0)


def test_bytes_per_transition_frame_ring_vs_naive():
    # 2 x 84 x 84 x 4 uint8 + action, reward, done: the "~56 KB"
    assert naive_bytes_per_transition() == 56_454
    per_transition = frame_ring_bytes_per_transition(1_000_000)
    assert per_transition == pytest.approx(84 * 84 + 14, abs=0.1)  # 7,070 bytes
    assert 1_000_000 * per_transition / 2 ** 30 < 6.6  # GiB for 1M transitions
    buffer = FrameReplayBuffer(1000)
    assert buffer.nbytes() / 1000 == pytest.approx(frame_ring_bytes_per_transition(1000))


def test_dueling_conv_model_shape_and_identity():
    from homl_rl.tf_setup import tf

    tf.keras.utils.set_random_seed(42)
    model = build_dueling_conv_q_network(n_outputs=4)
    states = np.random.default_rng(0).integers(0, 256, (3, 84, 84, 4)).astype(np.uint8)
    Q_values = model(states).numpy()
    assert Q_values.shape == (3, 4)
    head = tf.keras.Model(model.inputs, [model.get_layer("state_value").output,
                                         model.get_layer("raw_advantages").output])
    V, A = (t.numpy() for t in head(states))
    np.testing.assert_allclose(Q_values, V + A - A.max(axis=1, keepdims=True), rtol=1e-6)
    np.testing.assert_allclose(Q_values.max(axis=1), V[:, 0], rtol=1e-6)  # max Q = V
    conv = [layer for layer in model.layers if isinstance(layer, tf.keras.layers.Conv2D)]
    assert [(c.filters, c.kernel_size, c.strides) for c in conv] == [
        (32, (8, 8), (4, 4)), (64, (4, 4), (2, 2)), (64, (3, 3), (1, 1))]


def test_double_dqn_target_uses_online_argmax_and_target_values():
    rewards = np.array([1.0, 0.0, -1.0])
    dones = np.array([0.0, 1.0, 0.0])
    next_Q_online = np.array([[1.0, 5.0, 2.0], [9.0, 0.0, 0.0], [0.0, 1.0, 3.0]])
    next_Q_target = np.array([[7.0, 2.0, 4.0], [3.0, 3.0, 3.0], [10.0, 10.0, -2.0]])
    targets = double_dqn_targets(rewards, dones, next_Q_online, next_Q_target, 0.9).numpy()
    # by hand: online argmax = [1, 0, 2]; target values 2, (done), -2
    np.testing.assert_allclose(targets, [1 + 0.9 * 2, 0.0, -1 + 0.9 * -2], rtol=1e-6)


from homl_rl.breakout import BreakoutConfig, CheckpointError, load_checkpoint, train_breakout  # noqa: E402

TINY = BreakoutConfig(n_steps=240, replay_capacity=200, batch_size=8, training_starts=40,
                      epsilon_decay_steps=200, target_update_period=40, eval_interval=120,
                      eval_max_steps=60, checkpoint_interval=1000, seed=7)


@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    out = tmp_path_factory.mktemp("uninterrupted")
    state, agent, best = train_breakout(TINY, out, progress=False)
    return out, state, agent, best


def test_tiny_run_plays_trains_evaluates_and_checkpoints(uninterrupted):
    out, state, agent, best = uninterrupted
    assert state.step == 240 and not state.interrupted
    assert len(state.evaluations) == 2 and best is not None
    assert state.best_score == max(score for _, score in state.evaluations)
    assert state.episode_returns and all(ret >= 0 for _, ret in state.episode_returns)
    assert int(agent.optimizer.iterations.numpy()) == (240 - 40) // 4 + 1
    meta, arrays = load_checkpoint(out)
    assert meta["state"]["step"] == 240


def test_interrupted_and_resumed_run_equals_uninterrupted(uninterrupted, tmp_path):
    _, full_state, full_agent, full_best = uninterrupted
    state, *_ = train_breakout(TINY, tmp_path, progress=False, stop_at_step=130)
    assert state.interrupted and state.step == 130
    state, agent, best = train_breakout(TINY, tmp_path, resume=True, progress=False)
    assert state.step == 240
    assert state.episode_returns == full_state.episode_returns
    assert state.evaluations == full_state.evaluations
    for a, b in zip(agent.model.get_weights() + agent.target.get_weights() + best,
                    full_agent.model.get_weights() + full_agent.target.get_weights() + full_best):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(agent.optimizer.variables, full_agent.optimizer.variables):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


def test_bad_inputs_give_clear_errors_and_overwrite_nothing(uninterrupted, tmp_path):
    out, *_ = uninterrupted
    with pytest.raises(ValueError, match="env_id must be an Atari id"):
        BreakoutConfig(env_id="CartPole-v1")
    with pytest.raises(ValueError, match="n_steps must be a positive integer, got 0"):
        BreakoutConfig(n_steps=0)
    before = (out / "checkpoint.npz").read_bytes()
    with pytest.raises(CheckpointError, match="exists: pass resume=True"):
        train_breakout(TINY, out, progress=False)
    with pytest.raises(ValueError, match="at step 240"):
        train_breakout(TINY, out, resume=True, progress=False)
    assert (out / "checkpoint.npz").read_bytes() == before
    with pytest.raises(CheckpointError, match="no checkpoint"):
        train_breakout(TINY, tmp_path / "missing", resume=True, progress=False)
    corrupt = tmp_path / "corrupt"
    corrupt.mkdir()
    (corrupt / "checkpoint.npz").write_bytes(before[:1000])
    with pytest.raises(CheckpointError, match="corrupt checkpoint"):
        train_breakout(TINY, corrupt, resume=True, progress=False)
    assert (corrupt / "checkpoint.npz").read_bytes() == before[:1000]
    np.savez(corrupt / "checkpoint.npz", meta=np.array('{"version": 1}'))  # a valid zip
    with pytest.raises(CheckpointError, match="missing config, rng, state, obs"):
        train_breakout(TINY, corrupt, resume=True, progress=False)


def test_ctrl_c_raises_a_flag_instead_of_killing_the_loop():
    import signal

    from homl_rl.checkpoints import CtrlC

    with CtrlC() as ctrl_c:
        signal.raise_signal(signal.SIGINT)
        assert ctrl_c.pressed
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_cli_errors_are_clear_and_overwrite_nothing(uninterrupted, tmp_path, capsys):
    from homl_rl.cli import main

    out, *_ = uninterrupted
    before = (out / "checkpoint.npz").read_bytes()
    assert main(["breakout", "train", "--steps", "10", "--out", str(out), "--quiet"]) == 2
    assert "exists: pass resume=True (--resume)" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_:
        main(["breakout", "train", "--env", "CartPole-v1", "--out", str(tmp_path)])
    assert exit_.value.code == 2
    assert "argument --env: must be an Atari id" in capsys.readouterr().err
    assert main(["breakout", "play", "--checkpoint", str(tmp_path / "nope")]) == 2
    assert "no checkpoint" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["breakout", "train", "--steps", "0"])
    assert "argument --steps: must be a positive integer, got 0" in capsys.readouterr().err
    assert (out / "checkpoint.npz").read_bytes() == before
    assert not any(tmp_path.iterdir())


def test_cli_play_writes_a_gif(uninterrupted, tmp_path):
    from homl_rl.cli import main

    out, *_ = uninterrupted
    gif = tmp_path / "play.gif"
    assert main(["breakout", "play", "--checkpoint", str(out), "--gif", str(gif),
                 "--max-steps", "30"]) == 0
    assert gif.read_bytes()[:6] == b"GIF89a"


def test_epsilon_decays_linearly_then_stays():
    config = BreakoutConfig(epsilon_decay_steps=100)
    assert [config.epsilon(s) for s in (0, 50, 100, 1000)] == pytest.approx([1.0, 0.505, 0.01, 0.01])


def test_soft_target_update_moves_the_target_a_little(tmp_path):
    from dataclasses import replace

    config = replace(TINY, n_steps=60, soft_target_update=0.01, eval_interval=1000)
    state, agent, best = train_breakout(config, tmp_path, progress=False)
    model, target = agent.model.get_weights(), agent.target.get_weights()
    assert any(not np.array_equal(m, t) for m, t in zip(model, target))
    kernel, target_kernel = model[-2], target[-2]
    assert np.abs(target_kernel - kernel).max() < 1e-2  # 6 soft updates of tau 0.01 from equal


@pytest.mark.slow
def test_ctrl_c_saves_a_checkpoint_and_exits(tmp_path):
    """A real SIGINT to ``python -m homl_rl breakout train``: exit code 130, a checkpoint."""
    import signal
    import subprocess
    import sys
    import time

    process = subprocess.Popen([sys.executable, "-m", "homl_rl", "breakout", "train",
                                "--steps", "100000", "--replay-capacity", "2000",
                                "--out", str(tmp_path), "--quiet"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(25)  # TensorFlow import, model build: the loop runs by then
    process.send_signal(signal.SIGINT)
    out, err = process.communicate(timeout=120)
    assert process.returncode == 130, err
    assert "interrupted at step" in out
    meta, _ = load_checkpoint(tmp_path)
    assert meta["state"]["interrupted"] and 0 < meta["state"]["step"] < 100_000
