"""The 2nd edition's "Using TF-Agents to Beat Breakout", on a tiny budget.

The run is deterministic at a fixed seed on the pinned stack (TF 2.15.1, tf-agents
0.19.0, ale-py 0.12.1, CPU; checked in two processes): TFUniformReplayBuffer,
seeded TF ops with op determinism, and Breakout without sticky actions or random
no-ops. The pinned losses are from our run of SHORT on that stack.
"""

import math

import numpy as np
import pytest

from homl_rl.figures import FIGURES, save_figure
from homl_rl.figures.tf_agents import breakout_tf_agents, breakout_tf_agents_training_plot
from homl_rl.plotting import load_data
from homl_rl.run_cache import RunResult
from homl_rl.tf_agents_pipeline.breakout import (
    AGENT_RUN, BreakoutPipeline, TFAgentsBreakoutConfig, agent_run, checkpointed_step,
    load_histories, mean_losses, play, run_metrics, save_breakout_gif)

SHORT = TFAgentsBreakoutConfig(replay_capacity=1000, initial_collect_steps=200, n_iterations=40,
                               log_interval=20, checkpoint_interval=20, batch_size=32)


@pytest.fixture(scope="module")
def short_run_logdir(tmp_path_factory):
    """The short run's TensorBoard folder (it logs there: the pinned numbers hold with it)."""
    return tmp_path_factory.mktemp("tensorboard")


@pytest.fixture(scope="module")
def short_run(tmp_path_factory, short_run_logdir):
    checkpoint_dir = tmp_path_factory.mktemp("breakout")
    pipeline = BreakoutPipeline(SHORT)
    history = pipeline.train_agent(checkpoint_dir=checkpoint_dir, progress=False,
                                   logdir=short_run_logdir)
    return pipeline, history, checkpoint_dir


def test_short_run_is_pinned(short_run):
    pipeline, history, _ = short_run
    losses = history["losses"]
    assert len(losses) == 40 and all(math.isfinite(loss) for loss in losses)
    assert losses[:5] == pytest.approx([0.01506190374493599, 0.006039195694029331,
                                        0.0036117746494710445, 0.0003218258498236537,
                                        0.0002804594114422798], rel=1e-5)
    assert losses[-1] == pytest.approx(0.000688267289660871, rel=1e-5)
    last = history["metrics"][-1]
    assert (last["train_step"], last["EnvironmentSteps"], last["NumberOfEpisodes"]) == (40, 160, 1)
    assert (last["AverageReturn"], last["AverageEpisodeLength"]) == (1.0, 133.0)
    assert history["env_steps"] == 160


def test_the_short_run_wrote_its_metrics_for_tensorboard(short_run, short_run_logdir):
    from homl_rl.summaries import read_scalars

    _, history, _ = short_run
    scalars = read_scalars(short_run_logdir)
    assert set(scalars) == {"train/loss", "train/epsilon", "train/number_of_episodes",
                            "train/environment_steps", "train/average_return",
                            "train/average_episode_length", "train/env_steps_per_second"}
    steps = [metrics["train_step"] for metrics in history["metrics"]]
    assert steps == [1, 21, 40]  # iterations 0 and 20 (every log_interval), and the last
    for tag, name in (("environment_steps", "EnvironmentSteps"), ("average_return", "AverageReturn"),
                      ("number_of_episodes", "NumberOfEpisodes"),
                      ("average_episode_length", "AverageEpisodeLength")):
        assert scalars[f"train/{tag}"] == [(metrics["train_step"], metrics[name])
                                           for metrics in history["metrics"]]
    losses = history["losses"]
    assert scalars["train/loss"] == [(1, pytest.approx(losses[0], rel=1e-6)),
                                     (21, pytest.approx(np.mean(losses[1:21]), rel=1e-6)),
                                     (40, pytest.approx(np.mean(losses[21:]), rel=1e-6))]
    assert [step for step, _ in scalars["train/epsilon"]] == steps
    assert all(0.99 < epsilon <= 1.0 for _, epsilon in scalars["train/epsilon"])
    assert [step for step, _ in scalars["train/env_steps_per_second"]] == steps


def test_the_2nd_editions_q_network_and_agent(short_run):
    pipeline, _, _ = short_run
    encoder = pipeline.q_net._encoder
    convs = [layer for layer in encoder._postprocessing_layers
             if layer.__class__.__name__ == "Conv2D"]
    assert [(c.filters, c.kernel_size, c.strides) for c in convs] == [
        (32, (8, 8), (4, 4)), (64, (4, 4), (2, 2)), (64, (3, 3), (1, 1))]
    denses = [layer for layer in encoder._postprocessing_layers
              if layer.__class__.__name__ == "Dense"]
    assert [d.units for d in denses] == [512]
    optimizer = pipeline.agent._optimizer
    assert optimizer.get_config()["centered"] and optimizer.get_config()["rho"] == 0.95
    assert optimizer.get_config()["epsilon"] == pytest.approx(1e-5)
    assert pipeline.agent._gamma == 0.99
    # the target network was copied at step 0 and not since (every 2,000 steps): it lags
    online, target = pipeline.agent._q_network.variables, pipeline.agent._target_q_network.variables
    assert not all(np.array_equal(a.numpy(), b.numpy()) for a, b in zip(online, target))
    assert pipeline.collect_driver._num_steps == 4


def test_epsilon_decays_over_1m_ale_frames():
    pipeline = BreakoutPipeline(TFAgentsBreakoutConfig(replay_capacity=10))
    epsilon = pipeline.agent.collect_policy._epsilon
    assert float(epsilon()) == pytest.approx(1.0)
    pipeline.train_step.assign(250_000 // 4 // 2)  # half way: 125,000 collect steps
    assert float(epsilon()) == pytest.approx(0.505)
    pipeline.train_step.assign(250_000 // 4)  # 250,000 collect steps = 1,000,000 ALE frames
    assert float(epsilon()) == pytest.approx(0.01)


def test_buffer_trajectories_are_stacked_frames(short_run):
    pipeline, _, _ = short_run
    trajectories = pipeline.sample_trajectories()
    assert trajectories.observation.shape == (2, 3, 84, 84, 4)
    assert trajectories.observation.dtype.name == "uint8"


def test_the_history_is_saved_beside_the_checkpoints(short_run):
    _, history, checkpoint_dir = short_run
    assert checkpointed_step(checkpoint_dir) == 40
    [saved] = load_histories(checkpoint_dir)
    assert (saved["start_step"], saved["end_step"]) == (0, 40)
    assert saved["losses"] == history["losses"] and saved["metrics"] == history["metrics"]


def test_a_stopped_run_resumes_from_its_checkpoint(short_run):
    _, _, checkpoint_dir = short_run
    resumed = BreakoutPipeline(SHORT)
    history = resumed.train_agent(n_iterations=2, checkpoint_dir=checkpoint_dir, progress=False)
    assert history["start_step"] == 40 and int(resumed.train_step.numpy()) == 42
    # the buffer was refilled (initial_collect_steps of the restored collect policy) then 2x4 steps
    assert int(resumed.replay_buffer.num_frames()) >= 208
    assert checkpointed_step(checkpoint_dir) == 42
    assert [(h["start_step"], h["end_step"]) for h in load_histories(checkpoint_dir)] == [
        (0, 40), (40, 42)]


def test_the_long_run_figures_come_from_the_checkpoints_without_retraining(short_run, tmp_path):
    _, history, checkpoint_dir = short_run
    step, n_histories = checkpointed_step(checkpoint_dir), len(load_histories(checkpoint_dir))
    assert step >= SHORT.n_iterations
    histories = agent_run(SHORT, checkpoint_dir)  # done already: nothing trains
    metrics = run_metrics(histories)
    assert checkpointed_step(checkpoint_dir) == step
    assert len(histories) == len(load_histories(checkpoint_dir)) == n_histories
    assert metrics[:len(history["metrics"])] == history["metrics"]
    assert mean_losses(histories, every=20)[0] == pytest.approx(
        np.mean(history["losses"][:20]))
    run = RunResult("breakout_tf_agents_long", histories, {"seed": SHORT.seed}, SHORT.seed)
    for fig_id, picture_and_data in [
            ("breakout_tf_agents_training_plot", breakout_tf_agents_training_plot(run, SHORT)),
            ("breakout_tf_agents", breakout_tf_agents(run, SHORT, checkpoint_dir, num_steps=12))]:
        save_figure(FIGURES[fig_id], *picture_and_data, [run], tmp_path)
    assert (tmp_path / "breakout_tf_agents_training_plot.png").stat().st_size > 0
    assert (tmp_path / "breakout_tf_agents.gif").stat().st_size > 0
    played = load_data("breakout_tf_agents", out_dir=tmp_path)
    assert played["n_frames"] == len(played["rewards"]) == 12
    assert played["trained_env_steps"] == metrics[-1]["EnvironmentSteps"]
    plotted = load_data("breakout_tf_agents_training_plot", out_dir=tmp_path)
    assert "seconds" not in plotted["metrics"][0]  # wall-clock stays out of the data: deterministic


def test_agent_run_trains_what_is_missing(tmp_path):
    tiny = TFAgentsBreakoutConfig(replay_capacity=300, initial_collect_steps=100, n_iterations=3,
                                  log_interval=1, checkpoint_interval=3, batch_size=8)
    assert len(run_metrics(agent_run(tiny, tmp_path, progress=False))) == 3
    assert checkpointed_step(tmp_path) == 3


def test_the_saved_policy_plays_and_makes_a_gif(short_run, tmp_path):
    _, _, checkpoint_dir = short_run
    frames, rewards = play(checkpoint_dir / "policy", num_steps=20)
    assert len(frames) == len(rewards) == 20 and frames[0].shape == (210, 160, 3)
    path, _ = save_breakout_gif(checkpoint_dir / "policy", tmp_path / "breakout.gif",
                                num_steps=10)
    assert path.stat().st_size > 0


@pytest.mark.parametrize("kwargs, message", [
    (dict(train_period=0), "train_period must be a positive integer, got 0"),
    (dict(discount_factor=1.5), r"discount_factor must be in \[0, 1\], got 1.5"),
    (dict(replay_capacity=-5), "replay_capacity must be a positive integer"),
])
def test_bad_hyper_parameters_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        TFAgentsBreakoutConfig(**kwargs)


def test_play_without_a_trained_policy_is_a_clear_error(tmp_path, capsys):
    from homl_rl.cli import main

    assert main(["breakout-tf-agents", "play", "--checkpoint-dir", str(tmp_path)]) == 2
    assert "no saved policy in" in capsys.readouterr().err


def test_the_cli_keeps_logging_the_metrics_after_a_checkpoint(tmp_path, caplog):
    """Saving a policy resets absl's verbosity (TF's AutoTrackable); the CLI sets it first."""
    import logging

    from homl_rl.cli import main

    from homl_rl.summaries import read_scalars

    caplog.set_level(logging.INFO)
    assert main(["breakout-tf-agents", "train", "--checkpoint-dir", str(tmp_path / "run"),
                 "--iterations", "3", "--replay-capacity", "300", "--initial-collect-steps", "100",
                 "--checkpoint-interval", "1", "--log-interval", "1", "--quiet",
                 "--logdir", str(tmp_path / "tb")]) == 0
    assert caplog.text.count("EnvironmentSteps = ") == 3
    assert [h["end_step"] for h in load_histories(tmp_path / "run")] == [3]
    # --logdir: the same metrics, for TensorBoard, at each training step
    assert read_scalars(tmp_path / "tb")["train/environment_steps"] == [
        (1, 4.0), (2, 8.0), (3, 12.0)]


def test_the_committed_long_run_files_are_agent_runs():
    """figures/breakout_tf_agents*: our 100,000-iteration run of AGENT_RUN on the pinned stack
    (`make figures-long`); a change of AGENT_RUN without rerunning it is caught here."""
    from dataclasses import asdict

    plotted = load_data("breakout_tf_agents_training_plot")
    assert plotted["config"] == json_roundtrip(asdict(AGENT_RUN))
    last = plotted["metrics"][-1]
    assert (last["train_step"], last["EnvironmentSteps"]) == (100_000, 400_000)
    assert len(plotted["mean_losses"]) == 100
    played = load_data("breakout_tf_agents")
    assert played["trained_iterations"] == AGENT_RUN.n_iterations
    assert played["final_average_return"] == last["AverageReturn"] == 11.0
    assert played["points"] == sum(played["rewards"]) == 23.0


def json_roundtrip(value):
    import json

    return json.loads(json.dumps(value))
