"""MuZero's roles as Ray actors (homl_rl.muzero.distributed) and ``studies --ray``.

One local Ray instance (2 CPUs) serves the whole file; the tests that need it are skipped
when Ray is not installed (both requirements files pin it).
"""

import json
import math
import os
import signal
import sys
import threading
from dataclasses import replace

import numpy as np
import pytest

from homl_rl import cli
from homl_rl.muzero.config import MuZeroConfig
from homl_rl.checkpoints import read_checkpoint
from homl_rl.muzero.distributed import train_on_ray
from homl_rl.muzero.training import RAY_CHECKPOINT_NAME
from homl_rl.muzero.networks import MuZeroNetwork
from homl_rl.ray_setup import RAY_NEEDED, has_ray, import_ray
from homl_rl.seeding import set_seeds
from homl_rl.summaries import read_scalars
from homl_rl.experiments.studies import run_dqn_study

needs_ray = pytest.mark.skipif(not has_ray(), reason=f"{RAY_NEEDED} (homl_rl[ray])")

TINY = MuZeroConfig(num_simulations=4, batch_size=8, num_unroll_steps=3, td_steps=5,
                    max_moves=8, test_interval=10)
"""CartPole's config, tiny: games of at most 8 moves, so that 20 steps need several games"""


@pytest.fixture(scope="module")
def ray_instance():
    """One local Ray instance for the module (train_on_ray and run_study use it as it is)."""
    ray = import_ray()
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()


@needs_ray
def test_train_on_ray_trains_a_tiny_config_end_to_end(ray_instance, tmp_path):
    history = train_on_ray(replace(TINY, seed=0), training_steps=20, progress=False, logdir=tmp_path)
    assert history["ray"] and not history["interrupted"]
    assert history["training_steps"] == 20
    losses = np.array([history[name] for name in
                       ("total_loss", "value_loss", "reward_loss", "policy_loss")])
    assert losses.shape == (4, 20) and np.isfinite(losses).all()
    assert history["lr"] == [TINY.learning_rate(step) for step in range(20)]
    # every game saved, in order
    lengths = history["game_lengths"]
    assert history["played_games"] == len(lengths) == len(history["game_rewards"]) >= 2
    assert history["played_steps"] == sum(lengths)
    assert all(1 <= length <= TINY.max_moves for length in lengths)
    # the ratio: self-play started game k > 0 only once training_step / played steps >= ratio
    played_before = np.cumsum([0, *lengths[:-1]])
    assert history["game_steps"][0] == 0
    assert all(step / played >= TINY.ratio
               for step, played in zip(history["game_steps"][1:], played_before[1:]))
    # ...and the trainer stopped at the first step past ratio * played steps
    assert history["training_steps"] <= TINY.ratio * history["played_steps"] + 1
    # test games from step 10 on, the last one at the last step
    assert history["test_steps"][0] >= 10 and history["test_steps"][-1] == 20
    assert history["test_steps"] == sorted(history["test_steps"])
    assert all(1 <= reward <= TINY.max_moves for reward in history["test_rewards"])
    assert 1 <= history["reanalysed_games"] <= 20
    # the trainer's weights, trained from those of train(TINY, seed=0) (built at seed 0)
    set_seeds(0)
    initial = MuZeroNetwork(TINY, (1, 1, 4), 2).get_weights()
    # TensorBoard: train()'s tags, one scalar per step, game and test game
    scalars = read_scalars(tmp_path)
    assert [step for step, _ in scalars["loss/total_loss"]] == list(range(1, 21))
    assert [value for _, value in scalars["self_play/total_reward"]] == history["game_rewards"]
    assert [step for step, _ in scalars["test/total_reward"]] == history["test_steps"]
    trained = [w for name in initial for w in history["weights"][name]]
    initial = [w for name in initial for w in initial[name]]
    assert [w.shape for w in trained] == [w.shape for w in initial]
    assert not all(np.array_equal(w, w0) for w, w0 in zip(trained, initial))


@needs_ray
@pytest.mark.slow
def test_ctrl_c_stops_train_on_ray_and_returns_what_was_done(ray_instance):
    timer = threading.Timer(20, os.kill, (os.getpid(), signal.SIGINT))
    timer.start()
    try:
        history = train_on_ray(replace(TINY, seed=0), training_steps=100_000, progress=False)
    finally:
        timer.cancel()
    assert history["interrupted"]
    assert history["training_steps"] == len(history["total_loss"]) < 100_000
    assert all(math.isfinite(loss) for loss in history["total_loss"])


@needs_ray
def test_a_study_gives_the_same_results_and_cache_on_ray_as_in_processes(ray_instance,
                                                                         tmp_path):
    study = dict(parameter="batch_size", values=[8, 16], seeds=[0], n_episodes=3,
                 progress=False)
    runs, local = run_dqn_study(**study, jobs=2, cache_dir=tmp_path / "local")
    # one Ray task at a time (jobs=1): one worker imports TensorFlow, not two
    runs_on_ray, on_ray = run_dqn_study(**study, jobs=1, cache_dir=tmp_path / "ray",
                                        use_ray=True)
    assert runs_on_ray == runs and on_ray == local
    files = {kind: sorted(path.name for path in (tmp_path / kind).iterdir())
             for kind in ("local", "ray")}
    assert files["local"] == files["ray"] and len(files["ray"]) == 2
    for name in files["ray"]:  # the same cache entries, byte for byte (same machine)
        assert ((tmp_path / "ray" / name).read_bytes()
                == (tmp_path / "local" / name).read_bytes())
    # a rerun on Ray reads the cache back
    entry = tmp_path / "ray" / files["ray"][0]
    data = json.loads(entry.read_text())
    data["result"]["score"] = -1.0
    entry.write_text(json.dumps(data))
    _, again = run_dqn_study(**study, cache_dir=tmp_path / "ray", use_ray=True)
    assert sorted(result["score"] for result in again)[0] == -1.0


@needs_ray
def test_the_command_line_trains_on_ray_and_plays_its_weights(ray_instance, tmp_path, capsys):
    run_dir = tmp_path / "run"
    tiny = ["--training-steps", "12", "--num-simulations", "4", "--batch-size", "8",
            "--num-unroll-steps", "3", "--td-steps", "5", "--max-moves", "8",
            "--test-interval", "6"]
    run = ["muzero", "train", "--ray", "--seed", "1", "--checkpoint-dir", str(run_dir),
           "--quiet", *tiny]
    assert cli.main(run) == 0
    out = capsys.readouterr().out
    assert "done on Ray at training step 12/12" in out and RAY_CHECKPOINT_NAME in out
    meta, arrays = read_checkpoint(run_dir / RAY_CHECKPOINT_NAME)
    assert meta["ray"] and meta["trained_steps"] == 12 and meta["seed"] == 1
    assert len(arrays["history_total_loss"]) == 12
    assert len(arrays["history_game_steps"]) == meta["played_games"]
    # not resumable: neither by another Ray run nor by a one-process one
    assert cli.main(run) == 2
    assert "a run on Ray starts afresh" in capsys.readouterr().err
    assert cli.main([arg for arg in run if arg != "--ray"]) == 2
    assert "holds a Ray run" in capsys.readouterr().err
    gif = tmp_path / "game.gif"
    assert cli.main(["muzero", "play", "--checkpoint-dir", str(run_dir), "--gif",
                     str(gif)]) == 0
    assert gif.stat().st_size > 0
    assert "the network after 12 training steps" in capsys.readouterr().out


def test_studies_ray_options_parse_and_an_address_needs_ray(capsys):
    args = cli.parse_args(["studies", "--ray", "--ray-address", "auto"]) if has_ray() else None
    if args is not None:
        assert args.ray and args.ray_address == "auto"
    args = cli.parse_args(["studies"])
    assert not args.ray and args.ray_address is None
    with pytest.raises(SystemExit) as exit_:
        cli.parse_args(["studies", "--ray-address", "auto"])
    assert exit_.value.code == 2
    assert "argument --ray-address: needs --ray" in capsys.readouterr().err


def test_studies_ray_without_ray_installed_is_one_error_line(monkeypatch, capsys):
    monkeypatch.setattr(cli, "has_ray", lambda: False)
    with pytest.raises(SystemExit) as exit_:
        cli.parse_args(["studies", "--ray"])
    assert exit_.value.code == 2
    [line] = capsys.readouterr().err.strip().splitlines()
    assert line.endswith('argument --ray: Ray is not installed: pip install "homl_rl[ray]"')


def test_train_on_ray_without_ray_says_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` then fails
    with pytest.raises(ImportError, match=r'pip install "homl_rl\[ray\]"'):
        train_on_ray(TINY, training_steps=1)


@pytest.mark.parametrize("kwargs, message", [
    ({"training_steps": 0}, "training_steps must be a positive integer, got 0"),
    ({"num_workers": 0}, "num_workers must be a positive integer, got 0"),
    ({"num_cpus": 0}, "num_cpus must be a positive integer, got 0"),
])
def test_train_on_ray_refuses_bad_arguments_before_starting_ray(kwargs, message):
    with pytest.raises(ValueError, match=message):
        train_on_ray(TINY, **kwargs)


def test_run_study_refuses_a_ray_address_without_ray(tmp_path):
    from homl_rl.run_cache import run_study

    with pytest.raises(ValueError, match="ray_address needs use_ray"):
        run_study(dict, [{"a": 1}], cache_dir=tmp_path, ray_address="auto")
