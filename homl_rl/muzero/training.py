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

import time

from homl_rl.checkpoints import CtrlC
from homl_rl.checks import check_non_negative_int, check_positive_int
from homl_rl.muzero.config import MuZeroConfig
from homl_rl.muzero.networks import MuZeroNetwork, NumpyInference
from homl_rl.muzero.replay_buffer import ReplayBuffer
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


def train(config=MuZeroConfig(), seed=0, training_steps=None, progress=True, logdir=None):
    """Train MuZero on ``config.env_id`` for ``training_steps`` (default ``config``'s) at
    ``seed``; return the history: ``test_steps``, ``test_rewards`` and ``test_played_games``
    (each test game's training step, total reward and games played by then),
    ``game_rewards`` and ``game_lengths`` of the self-play games, the four losses and the
    learning rate per training step, ``training_steps`` done, ``played_steps``,
    ``played_games``, ``interrupted``, ``seconds``, ``config``, ``seed`` and the final
    ``weights``. Ctrl-C stops it after the current training step (``interrupted``)."""
    training_steps = check_positive_int(
        "training_steps", config.training_steps if training_steps is None else training_steps)
    seed = check_non_negative_int("seed", seed)
    start = time.perf_counter()
    set_seeds(seed)
    self_play, tester = SelfPlay(config, seed), SelfPlay(config, seed + 1)
    n_actions = len(self_play.game.action_space)
    network = MuZeroNetwork(config, self_play.game.observation_shape, n_actions)
    storage = SharedStorage(network.get_weights())
    replay_buffer = ReplayBuffer(config, seed)
    trainer = Trainer(config, network)
    history = {"test_steps": [], "test_rewards": [], "test_played_games": [],
               "game_rewards": [], "game_lengths": [], "total_loss": [], "value_loss": [],
               "reward_loss": [], "policy_loss": [], "lr": []}
    bar = progress_bar(total=training_steps, desc="MuZero", progress=progress)
    log = summaries(logdir)

    def test_game():
        game = tester.play_game(storage.get_info("weights"), temperature=0,
                                add_exploration_noise=config.test_root_noise)
        history["test_steps"].append(trainer.training_step)
        history["test_rewards"].append(game.total_reward)
        history["test_played_games"].append(replay_buffer.num_played_games)
        log.scalars(trainer.training_step, **{"test/total_reward": game.total_reward,
                                              "test/episode_length": len(game)})

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
            test_game()
        bar.update(1)
        bar.set_postfix(test_reward=history["test_rewards"][-1] if history["test_rewards"] else None,
                        games=replay_buffer.num_played_games, loss=f"{losses['total_loss']:.3f}")

    def ratio_reached():
        return trainer.training_step / max(1, replay_buffer.num_played_steps) > config.ratio

    with CtrlC() as ctrl_c:
        try:
            while trainer.training_step < training_steps and not ctrl_c.pressed:
                self_play_game()
                while (trainer.training_step < training_steps and not ctrl_c.pressed
                       and not ratio_reached()):
                    training_step()
        finally:
            if ctrl_c.pressed:
                storage.set_info({"terminate": True})
            bar.close()
            log.close()
            self_play.close()
            tester.close()
    history.update(interrupted=ctrl_c.pressed, training_steps=trainer.training_step,
                   played_steps=replay_buffer.num_played_steps,
                   played_games=replay_buffer.num_played_games,
                   seconds=time.perf_counter() - start, config=config, seed=seed,
                   weights=network.get_weights())
    return history
