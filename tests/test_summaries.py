"""TensorBoard scalars (homl_rl.summaries) and the long runs' ``--logdir``.

Event files are read back with TensorFlow's own reader (``read_scalars``, built on
``tf.compat.v1.train.summary_iterator``) and, where the ``tensorboard`` package is installed
(the reference stack), with TensorBoard's ``EventAccumulator`` too.
"""

import importlib.util

import numpy as np
import pytest

from homl_rl.summaries import NoSummaries, Summaries, has_events, read_scalars, summaries

HAS_TENSORBOARD = importlib.util.find_spec("tensorboard") is not None


def test_scalars_are_read_back_by_tensorflows_and_tensorboards_readers(tmp_path):
    with summaries(tmp_path / "run") as log:
        assert isinstance(log, Summaries)
        log.scalar("train/loss", 0.25, step=3)
        log.scalars(7, **{"train/loss": 0.5, "eval/score": 12, "train/skipped": None})
        assert log.rate("speed", count=100, step=7) is None  # the first call starts the clock
        speed = log.rate("speed", count=300, step=9)
    assert speed > 0
    scalars = read_scalars(tmp_path / "run")
    assert scalars == {"train/loss": [(3, 0.25), (7, 0.5)], "eval/score": [(7, 12.0)],
                       "speed": [(9, pytest.approx(speed, rel=1e-6))]}
    if HAS_TENSORBOARD:
        from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

        accumulator = EventAccumulator(str(tmp_path / "run"))
        accumulator.Reload()
        assert set(accumulator.Tags()["tensors"]) == {"train/loss", "eval/score", "speed"}
        assert accumulator.SummaryMetadata("eval/score").plugin_data.plugin_name == "scalars"
        from homl_rl.tf_setup import tf

        assert [(event.step, float(tf.make_ndarray(event.tensor_proto)))
                for event in accumulator.Tensors("train/loss")] == [(3, 0.25), (7, 0.5)]


def test_without_a_logdir_nothing_is_written(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with summaries(None) as log:
        assert isinstance(log, NoSummaries) and log.logdir is None
        log.scalar("a", 1.0, 0)
        log.scalars(1, a=2.0)
        assert log.rate("r", 10, 1) is None and log.rate("r", 20, 2) is None
        log.flush()
    assert not any(tmp_path.iterdir())


def test_a_bad_logdir_is_a_clear_error(tmp_path):
    a_file = tmp_path / "a_file"
    a_file.write_text("")
    with pytest.raises(ValueError, match=f"logdir {a_file} is a file, not a folder"):
        summaries(a_file)
    with pytest.raises(ValueError, match="logdir /proc/nope/run: cannot create it"):
        summaries("/proc/nope/run")


# --- the runs that take a logdir --------------------------------------------------------------

BREAKOUT_OPTIONS = ["--steps", "160", "--replay-capacity", "200", "--batch-size", "8",
                    "--training-starts", "40", "--epsilon-decay-steps", "100",
                    "--target-update-period", "40", "--eval-interval", "80",
                    "--eval-max-steps", "40", "--seed", "7", "--quiet"]


def test_breakout_train_logdir_writes_what_its_checkpoint_records(tmp_path):
    from homl_rl.breakout import BreakoutConfig, load_checkpoint
    from homl_rl.cli import main

    out, logdir = tmp_path / "run", tmp_path / "tb"
    assert main(["breakout", "train", "--out", str(out), "--logdir", str(logdir),
                 *BREAKOUT_OPTIONS]) == 0
    state = load_checkpoint(out)[0]["state"]
    config = BreakoutConfig(**load_checkpoint(out)[0]["config"])
    scalars = read_scalars(logdir)
    assert set(scalars) == {"train/episode_return", "train/epsilon", "train/loss",
                            "train/env_steps_per_second", "eval/score"}
    assert scalars["train/episode_return"] == [tuple(pair) for pair in state["episode_returns"]]
    assert scalars["eval/score"] == [tuple(pair) for pair in state["evaluations"]]
    assert [step for step, _ in scalars["eval/score"]] == [80, 160]
    episode_ends = [step for step, _ in state["episode_returns"]]
    assert episode_ends  # (the run has finished episodes to log)
    assert scalars["train/epsilon"] == [(step, pytest.approx(config.epsilon(step), rel=1e-6))
                                        for step in episode_ends]
    assert [step for step, _ in scalars["train/env_steps_per_second"]] == episode_ends
    assert all(speed > 0 for _, speed in scalars["train/env_steps_per_second"])
    trained = [step for step in episode_ends if step >= 40 + 4]  # a training step before it
    assert [step for step, _ in scalars["train/loss"]] == trained
    assert all(np.isfinite(loss) and loss >= 0 for _, loss in scalars["train/loss"])


def test_breakout_refuses_a_bad_logdir_before_any_work(tmp_path):
    from homl_rl.breakout import BreakoutConfig, train_breakout

    a_file = tmp_path / "a_file"
    a_file.write_text("")
    with pytest.raises(ValueError, match="is a file, not a folder"):
        train_breakout(BreakoutConfig(n_steps=10), tmp_path / "run", progress=False,
                       logdir=a_file)
    assert not (tmp_path / "run").exists()


def test_a_study_logs_each_run_once_and_keeps_its_cache_key(tmp_path):
    from homl_rl.experiments.studies import run_dqn_study, run_logdir

    kwargs = dict(values=[8], seeds=[0], n_episodes=3, jobs=1, cache_dir=tmp_path / "cache",
                  progress=False)
    runs, (result,) = run_dqn_study("batch_size", **kwargs, logdir=tmp_path / "tb")
    folder = run_logdir(tmp_path / "tb", "batch_size", runs[0])
    assert folder == tmp_path / "tb" / "batch_size" / "batch_size=8,seed=0"
    scalars = read_scalars(folder)
    assert scalars["study/sum_of_rewards"] == [
        (episode, float(value)) for episode, value in enumerate(result["sums_of_rewards"])]
    assert scalars["study/score"] == [(2, pytest.approx(result["score"]))]
    # a run that did not converge writes no convergence episode
    assert ("study/episodes_to_convergence" in scalars) == (
        result["episodes_to_convergence"] is not None)
    # the logdir is not part of the cache key: another logdir reuses the run, logging it there
    runs, (cached,) = run_dqn_study("batch_size", **kwargs, logdir=tmp_path / "tb2")
    assert cached == result and len(list((tmp_path / "cache").iterdir())) == 1
    assert read_scalars(run_logdir(tmp_path / "tb2", "batch_size", runs[0])) == scalars
    # and a run already logged in a folder is not written there twice
    run_dqn_study("batch_size", **kwargs, logdir=tmp_path / "tb")
    assert read_scalars(folder) == scalars and has_events(folder)
