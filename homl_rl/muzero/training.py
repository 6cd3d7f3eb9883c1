"""MuZero's training in one process: the roles interleaved at the config's ``ratio``.

muzero-general runs self-play, the replay buffer, the trainer, the reanalysis and a test
player as Ray actors sharing a storage. Its ``ratio`` rule: the trainer waits while
``training_step / max(1, played steps) > ratio`` and self-play waits (after each whole game)
while ``training_step / max(1, played steps) < ratio``. In one process that rule is a loop:
play one game, then train while ``training_step / played steps <= ratio`` (so training
stops at the first step past ``ratio * played steps``), until ``training_steps``.

The other roles' timing in one process: the weights are published to the shared storage
every ``checkpoint_interval`` training steps and self-play reads them at the start of each
game (as there); the reanalysis refreshes the values a batch's targets bootstrap from, with
the trainer's weights of that moment (there a Reanalyse actor refreshes whole random games
as fast as it can, so the values are older); a test game (temperature 0) is played every
``test_interval`` training steps with the published weights (there a test actor plays
without a pause).
"""

import os
import time
from pathlib import Path

from homl_rl.checkpoints import CheckpointError, CtrlC
from homl_rl.checks import check_non_negative_int, check_positive_int
from homl_rl.muzero.checkpoint import HISTORY_ARRAYS, checkpoint_config, load_run, save_run
from homl_rl.muzero.config import MuZeroConfig
from homl_rl.muzero.networks import MuZeroNetwork, NumpyInference
from homl_rl.muzero.replay_buffer import GameReplayBuffer
from homl_rl.muzero.self_play import SelfPlay
from homl_rl.muzero.trainer import Trainer
from homl_rl.progress import progress_bar
from homl_rl.seeding import set_seeds
from homl_rl.summaries import summaries


class SharedStorage:
    """What the roles share: the published weights and the run's counters and last losses."""

    def __init__(self, weights):
        self.info = {"weights": weights, "training_step": 0, "num_played_games": 0,
                     "num_played_steps": 0, "terminate": False}

    def get_info(self, key):
        return self.info[key]

    def set_info(self, values):
        self.info.update(values)


MUZERO_CHECKPOINT_NAME = "muzero.npz"

RAY_CHECKPOINT_NAME = "muzero_ray.npz"
"""a Ray run's final weights and history (``muzero train --ray``; not resumable)"""
"""the run's checkpoint file in its ``checkpoint_dir``"""


def train(config=MuZeroConfig(), training_steps=None, progress=True, logdir=None,
          checkpoint_dir=None, save_interval=500, final_test_episodes=10, time_limit=None):
    """Train MuZero on ``config.env_id`` for ``training_steps`` (default ``config``'s) at
    ``config.seed``; return the history: ``test_steps``, ``test_rewards`` and ``test_played_games``
    (each test game's training step, total reward and games played by then),
    ``game_rewards`` and ``game_lengths`` of the self-play games, the four losses and the
    learning rate per training step, ``final_test_rewards`` (``final_test_episodes`` test
    games with the final weights, temperature 0), ``training_steps`` done, ``played_steps``,
    ``played_games``, ``interrupted``, ``seconds``, ``config``, ``seed`` and the final
    ``weights``.

    ``checkpoint_dir``: the run is saved there (:mod:`homl_rl.muzero.checkpoint`) every
    ``save_interval`` training steps, at its end and on Ctrl-C (which stops it after the
    current game or training step: ``interrupted``); called again with the same folder, it
    resumes from the checkpoint and goes on exactly as if it had never stopped (a finished run
    is only read back). ``seconds`` adds up the time of every call; the checkpoint also keeps
    the machine's 1-minute load average at each save (``load_averages``: the time of a run
    on a shared machine says little without it).

    ``time_limit``: seconds of training in all (``seconds``, every call's); once they are
    spent the run stops and saves as on Ctrl-C (``timed_out``), resumable with a larger one.
    """
    training_steps = check_positive_int(
        "training_steps", config.training_steps if training_steps is None else training_steps)
    seed = config.seed
    save_interval = check_positive_int("save_interval", save_interval)
    final_test_episodes = check_non_negative_int("final_test_episodes", final_test_episodes)
    if time_limit is not None and not time_limit > 0:
        raise ValueError(f"time_limit must be a positive number of seconds, got {time_limit!r}")
    start = time.perf_counter()
    set_seeds(seed)
    self_play, tester = SelfPlay(config, seed), SelfPlay(config, seed + 1)
    n_actions = len(self_play.game.action_space)
    network = MuZeroNetwork(config, self_play.game.observation_shape, n_actions)
    storage = SharedStorage(network.get_weights())
    replay_buffer = GameReplayBuffer(config, seed)
    trainer = Trainer(config, network)
    history = {key: [] for key in HISTORY_ARRAYS}
    settings = {"config": checkpoint_config(config), "seed": seed,
                "training_steps": training_steps, "final_test_episodes": final_test_episodes}
    path = None if checkpoint_dir is None else Path(checkpoint_dir) / MUZERO_CHECKPOINT_NAME
    seconds_before, load_averages = 0.0, []
    if path is not None and (path.parent / RAY_CHECKPOINT_NAME).exists():
        raise CheckpointError(f"{path.parent} holds a Ray run ({RAY_CHECKPOINT_NAME}), which "
                              "cannot be resumed: use another checkpoint_dir")
    if path is not None and path.exists():
        meta, published = load_run(path, network, trainer.optimizer, replay_buffer,
                                   {"self_play": self_play, "tester": tester}, history)
        for key, value in settings.items():
            if meta[key] != value:
                raise CheckpointError(
                    f"checkpoint {path} is of another run: its {key} is {meta[key]!r}, "
                    f"not {value!r} (use another checkpoint_dir)")
        trainer.training_step = meta["trained_steps"]
        storage.set_info({"weights": published, "training_step": trainer.training_step,
                          "num_played_games": replay_buffer.num_played_games,
                          "num_played_steps": replay_buffer.num_played_steps})
        seconds_before, load_averages = meta["seconds"], meta.get("load_averages", [])
    bar = progress_bar(total=training_steps, initial=trainer.training_step, desc="MuZero",
                       progress=progress)
    log = summaries(logdir)

    def test_game(weights, tag="test"):
        game = tester.play_game(weights, temperature=0,
                                add_exploration_noise=config.test_root_noise)
        log.scalars(trainer.training_step, **{f"{tag}/total_reward": game.total_reward,
                                              f"{tag}/episode_length": len(game)})
        return game.total_reward

    def self_play_game():
        temperature = config.visit_softmax_temperature(trainer.training_step, training_steps)
        game = self_play.play_game(storage.get_info("weights"), temperature)
        replay_buffer.save_game(game)
        storage.set_info({"num_played_games": replay_buffer.num_played_games,
                          "num_played_steps": replay_buffer.num_played_steps})
        history["game_rewards"].append(game.total_reward)
        history["game_lengths"].append(len(game))
        log.scalars(trainer.training_step, **{
            "self_play/total_reward": game.total_reward,
            "self_play/played_games": replay_buffer.num_played_games})

    def training_step():
        model = NumpyInference(network.get_weights(), n_actions, config.support_size)
        index_batch, batch = replay_buffer.get_batch(model)
        history["lr"].append(config.learning_rate(trainer.training_step))
        priorities, losses = trainer.update_weights(batch)
        if config.per:
            replay_buffer.update_priorities(priorities, index_batch)
        for name, value in losses.items():
            history[name].append(value)
        step = trainer.training_step
        if step % config.checkpoint_interval == 0:
            storage.set_info({"weights": network.get_weights()})
        storage.set_info({"training_step": step, **losses})
        log.scalars(step, **{f"loss/{name}": value for name, value in losses.items()},
                    **{"train/lr": history["lr"][-1]})
        if step % config.test_interval == 0 or step == training_steps:
            history["test_steps"].append(step)
            history["test_rewards"].append(test_game(storage.get_info("weights")))
            history["test_played_games"].append(replay_buffer.num_played_games)
        bar.update(1)
        bar.set_postfix(test_reward=history["test_rewards"][-1] if history["test_rewards"] else None,
                        games=replay_buffer.num_played_games, loss=f"{losses['total_loss']:.3f}")

    def needs_a_game():
        """muzero-general's ratio rule as one decision: self-play while the trainer is ahead
        of ``ratio`` training steps per played move (and before any game), else train."""
        return (replay_buffer.num_played_games == 0
                or trainer.training_step / max(1, replay_buffer.num_played_steps) > config.ratio)

    def save():
        if path is not None:
            load_averages.append([trainer.training_step, os.getloadavg()[0]])
            meta = dict(settings, trained_steps=trainer.training_step,
                        seconds=seconds_before + time.perf_counter() - start,
                        load_averages=load_averages)
            save_run(path, meta, network, storage.get_info("weights"), trainer.optimizer,
                     replay_buffer, {"self_play": self_play, "tester": tester}, history)

    def out_of_time():
        return (time_limit is not None
                and seconds_before + time.perf_counter() - start >= time_limit)

    finished = (trainer.training_step >= training_steps
                and len(history["final_test_rewards"]) >= final_test_episodes)
    with CtrlC() as ctrl_c:
        try:
            while (trainer.training_step < training_steps and not ctrl_c.pressed
                   and not out_of_time()):
                if needs_a_game():
                    self_play_game()
                else:
                    training_step()
                    if trainer.training_step % save_interval == 0:
                        save()
            done = trainer.training_step >= training_steps
            if done and len(history["final_test_rewards"]) < final_test_episodes:
                final_weights = network.get_weights()
                while (len(history["final_test_rewards"]) < final_test_episodes
                       and not ctrl_c.pressed):
                    history["final_test_rewards"].append(test_game(final_weights, "final_test"))
            if not finished:  # a finished run is only read back: its checkpoint stays as it is
                save()
        finally:
            if ctrl_c.pressed:
                storage.set_info({"terminate": True})
            bar.close()
            log.close()
            self_play.close()
            tester.close()
    history.update(interrupted=ctrl_c.pressed, training_steps=trainer.training_step,
                   timed_out=trainer.training_step < training_steps and not ctrl_c.pressed,
                   played_steps=replay_buffer.num_played_steps,
                   played_games=replay_buffer.num_played_games,
                   seconds=seconds_before + (0 if finished else time.perf_counter() - start),
                   config=config,
                   seed=seed, weights=network.get_weights())
    return history
