"""MuZero's roles as Ray actors, as muzero-general runs them: :func:`train_on_ray`.

:func:`homl_rl.muzero.training.train` interleaves the roles in one process. Here each role
is an actor (a process of its own, locally or on a Ray cluster), wrapping the same classes:

- :class:`RayStorage`: the :class:`~homl_rl.muzero.training.SharedStorage` (published
  weights, counters, last losses, the ``terminate`` flag), plus the run's records (each
  training step's losses, each game, each test game) that the driver reads as they come;
- :class:`RayReplayBuffer`: the :class:`~homl_rl.muzero.replay_buffer.GameReplayBuffer`;
- :class:`RayTrainer`: the :class:`~homl_rl.muzero.trainer.Trainer` and its network. It
  trains without a pause, fetching the next batch while it trains on the current one,
  publishes the weights every ``checkpoint_interval`` steps, and waits while
  ``training_step / max(1, played steps) > ratio``;
- :class:`RaySelfPlay` (``num_workers`` of them): :class:`~homl_rl.muzero.self_play.SelfPlay`
  playing whole games with the last published weights (read at the start of each game) and
  saving them to the buffer; after each game it waits while
  ``training_step / max(1, played steps) < ratio``;
- a test :class:`RaySelfPlay`: a game at temperature 0 whenever the training step has
  reached the next multiple of ``test_interval`` (and at the last step), with the
  published weights (muzero-general's test worker plays without a pause);
- :class:`RayReanalyse` (when ``use_last_model_value``): muzero-general's Reanalyse. It
  draws a game uniformly from the buffer, predicts the value of every position with the
  last published weights (:func:`~homl_rl.muzero.replay_buffer.reanalyse_game`) and hands
  back only those values, which the buffer writes into the game if it still holds it (its
  priorities, updated meanwhile by the trainer, are left alone). The buffer's batches then
  bootstrap their value targets from these values (the one-process run reanalyses the
  bootstrap positions of each batch instead). Unlike muzero-general's free-running loop it
  reanalyses at most one game per training step, so that it does not take a core from
  self-play and the trainer on a small machine.

The actors take no CPU from Ray's accounting (``num_cpus=0``, as muzero-general's): they
share the cores, and each keeps TensorFlow to one thread.

**Seeds.** The trainer seeds everything with ``seed`` before building its network (so
the initial weights are those of ``train(config)``); self-play worker ``i`` plays
with ``seed + i``, the test worker with ``seed + num_workers``, the buffer draws with
``seed`` (the reanalysis's draws too). With one worker these are ``train``'s seeds. The
run is still not reproducible: the roles run asynchronously, so which weights a game is
played with, and which games a batch draws, depend on timing.

**Stopping.** Ctrl-C in the driver (or an actor's error) sets ``terminate``; the trainer
stops after its current step, the others are stopped, and what was done is returned
(``interrupted``). A Ray session started here is shut down at the end; one already running
(``ray.init`` before) is left running, with this run's actors removed.

Ray is optional: ``pip install "homl_rl[ray]"``. On a cluster (``address``), homl_rl must
be installed on every node.
"""

import time

import numpy as np

from homl_rl.checkpoints import CtrlC
from homl_rl.checks import check_positive_int
from homl_rl.muzero.config import MuZeroConfig
from homl_rl.muzero.networks import MuZeroNetwork, NumpyInference
from homl_rl.muzero.replay_buffer import GameReplayBuffer, reanalyse_game
from homl_rl.muzero.self_play import SelfPlay, make_game
from homl_rl.muzero.trainer import Trainer
from homl_rl.muzero.training import SharedStorage
from homl_rl.progress import progress_bar
from homl_rl.ray_setup import import_ray, ray_session
from homl_rl.seeding import set_seeds
from homl_rl.summaries import summaries
from homl_rl.tf_setup import tf

TRAINING_LOSSES = ("total_loss", "value_loss", "reward_loss", "policy_loss")
"""the losses of a training step, as :meth:`Trainer.update_weights` names them"""

WAIT_SECONDS = 0.05
"""how often a waiting actor (at the ratio, before the next test) reads the storage again"""

POLL_SECONDS = 0.2
"""how often the driver reads the storage's new records (progress bar, TensorBoard)"""

STOP_SECONDS = 60
"""how long the driver waits, after a stop, for the trainer to finish its step"""


def single_threaded_tensorflow():
    """One thread for TensorFlow's ops in this process (an actor shares the cores with the
    other roles); nothing if TensorFlow's runtime has started already."""
    try:
        tf.config.threading.set_intra_op_parallelism_threads(1)
        tf.config.threading.set_inter_op_parallelism_threads(1)
    except RuntimeError:
        pass


def wait_while(storage, condition, keys=()):
    """Sleep while ``condition(info)`` holds for the storage's ``keys`` (``terminate`` always
    read: a stop ends the wait); return the last info read."""
    ray = import_ray()
    keys = ["terminate", *keys]
    while True:
        info = ray.get(storage.get_infos.remote(keys))
        if info["terminate"] or not condition(info):
            return info
        time.sleep(WAIT_SECONDS)


class RayStorage(SharedStorage):
    """The shared storage actor: :class:`SharedStorage` plus the run's records, ``steps``
    (each training step's losses and learning rate), ``games`` (each self-play game) and
    ``tests`` (each test game), in the order they came."""

    def __init__(self, weights):
        super().__init__(weights)
        self.info["num_reanalysed_games"] = 0
        self.records = {"steps": [], "games": [], "tests": []}

    def get_infos(self, keys):
        """``{key: value}`` of ``keys``, read at once."""
        return {key: self.info[key] for key in keys}

    def record(self, kind, row, info=None):
        """Append ``row`` to the records of ``kind``, and set ``info``'s values."""
        self.records[kind].append(row)
        self.set_info(info or {})

    def records_since(self, counts):
        """``{kind: its records after the first counts[kind]}``."""
        return {kind: rows[counts.get(kind, 0):] for kind, rows in self.records.items()}


class RayReplayBuffer:
    """The replay buffer actor: a :class:`GameReplayBuffer`, which reports each game it saves to
    the storage (its record, and the played games and steps)."""

    def __init__(self, config, seed, storage):
        self.replay_buffer = GameReplayBuffer(config, seed)
        self.storage = storage

    def save_game(self, game_history, training_step):
        """Save ``game_history`` (played at ``training_step``); return once the storage knows."""
        ray, buffer = import_ray(), self.replay_buffer
        buffer.save_game(game_history)
        row = {"training_step": training_step, "total_reward": game_history.total_reward,
               "length": len(game_history), "played_games": buffer.num_played_games}
        ray.get(self.storage.record.remote("games", row, {
            "num_played_games": buffer.num_played_games,
            "num_played_steps": buffer.num_played_steps}))

    def get_batch(self):
        """A batch (``GameReplayBuffer.get_batch``) whose value targets bootstrap from the values
        the reanalyse actor last wrote (no model: nothing is reanalysed here)."""
        return self.replay_buffer.get_batch()

    def update_priorities(self, priorities, index_batch):
        self.replay_buffer.update_priorities(priorities, index_batch)

    def game_to_reanalyse(self):
        """``(game_id, game_history)`` of a game drawn uniformly."""
        game_id, game_history, _ = self.replay_buffer.sample_game(force_uniform=True)
        return game_id, game_history

    def set_reanalysed_values(self, game_id, values):
        """Write the reanalysed root values of game ``game_id``, if it is still kept."""
        game_history = self.replay_buffer.buffer.get(game_id)
        if game_history is not None:  # a copy: Ray hands arrays over read-only
            game_history.reanalysed_predicted_root_values = np.array(values)


class RayTrainer:
    """The trainer actor: a :class:`MuZeroNetwork` built at ``seed`` and its :class:`Trainer`."""

    def __init__(self, config, seed, observation_shape, n_actions):
        single_threaded_tensorflow()
        set_seeds(seed)
        self.config = config
        self.network = MuZeroNetwork(config, observation_shape, n_actions)
        self.trainer = Trainer(config, self.network)

    def get_weights(self):
        return self.network.get_weights()

    def continuous_update_weights(self, replay_buffer, storage, training_steps):
        """Train until ``training_steps`` or ``terminate``, from the first saved game on."""
        ray, config, trainer = import_ray(), self.config, self.trainer
        info = wait_while(storage, lambda info: info["num_played_games"] < 1,
                          ["num_played_games"])
        next_batch = replay_buffer.get_batch.remote()
        while trainer.training_step < training_steps and not info["terminate"]:
            index_batch, batch = ray.get(next_batch)
            next_batch = replay_buffer.get_batch.remote()
            lr = config.learning_rate(trainer.training_step)
            priorities, losses = trainer.update_weights(batch)
            if config.per:
                replay_buffer.update_priorities.remote(priorities, index_batch)
            step = trainer.training_step
            published = {"training_step": step, **losses}
            if step % config.checkpoint_interval == 0:
                published["weights"] = self.network.get_weights()
            # the storage runs one caller's calls in order: the wait below sees this step
            storage.record.remote("steps", {"training_step": step, "lr": lr, **losses},
                                  published)
            info = wait_while(
                storage, lambda info: (step / max(1, info["num_played_steps"]) > config.ratio
                                       and step < training_steps),
                ["num_played_steps"])


class RaySelfPlay:
    """A self-play actor (training games, or test games): a :class:`SelfPlay` at ``seed``."""

    def __init__(self, config, seed):
        single_threaded_tensorflow()
        self.config = config
        self.self_play = SelfPlay(config, seed)

    def continuous_self_play(self, storage, replay_buffer, training_steps):
        """Play games into ``replay_buffer`` until ``training_steps`` or ``terminate``."""
        ray, config = import_ray(), self.config
        try:
            while True:
                info = ray.get(storage.get_infos.remote(["terminate", "training_step",
                                                         "weights"]))
                step = info["training_step"]
                if info["terminate"] or step >= training_steps:
                    return
                game = self.self_play.play_game(
                    info["weights"], config.visit_softmax_temperature(step, training_steps))
                ray.get(replay_buffer.save_game.remote(game, step))
                wait_while(storage, lambda info: (
                    info["training_step"] / max(1, info["num_played_steps"]) < config.ratio
                    and info["training_step"] < training_steps),
                    ["training_step", "num_played_steps"])
        finally:
            self.self_play.close()

    def continuous_test(self, storage, training_steps):
        """Play a test game (temperature 0) each time the training step reaches the next
        multiple of ``test_interval``, and one at ``training_steps``; record each."""
        ray, config = import_ray(), self.config
        next_test = min(config.test_interval, training_steps)
        try:
            while True:
                info = wait_while(storage, lambda info: info["training_step"] < next_test,
                                  ["training_step"])
                if info["terminate"]:
                    return
                info = ray.get(storage.get_infos.remote(["training_step", "weights",
                                                         "num_played_games"]))
                step = info["training_step"]
                game = self.self_play.play_game(info["weights"], temperature=0,
                                                add_exploration_noise=config.test_root_noise)
                storage.record.remote("tests", {
                    "training_step": step, "total_reward": game.total_reward,
                    "length": len(game), "played_games": info["num_played_games"]})
                if step >= training_steps:
                    return
                next_test = min((step // config.test_interval + 1) * config.test_interval,
                                training_steps)
        finally:
            self.self_play.close()


class RayReanalyse:
    """The reanalyse actor: refreshes the root values of random games with the last
    published weights (:func:`reanalyse_game`), at most one game per training step."""

    def __init__(self, config, n_actions):
        single_threaded_tensorflow()
        self.config, self.n_actions = config, n_actions

    def continuous_reanalyse(self, storage, replay_buffer, training_steps):
        ray, config, reanalysed = import_ray(), self.config, 0
        while True:
            info = wait_while(storage, lambda info: (reanalysed >= info["training_step"]
                                                     and info["training_step"] < training_steps),
                              ["training_step"])
            if info["terminate"] or info["training_step"] >= training_steps:
                return reanalysed
            model = NumpyInference(ray.get(storage.get_info.remote("weights")), self.n_actions,
                                   config.support_size)
            game_id, game_history = ray.get(replay_buffer.game_to_reanalyse.remote())
            # every value is predicted again (and Ray hands arrays over read-only)
            game_history.reanalysed_predicted_root_values = None
            reanalyse_game(game_history, model, config.stacked_observations)
            replay_buffer.set_reanalysed_values.remote(
                game_id, game_history.reanalysed_predicted_root_values)
            reanalysed += 1
            storage.set_info.remote({"num_reanalysed_games": reanalysed})


def train_on_ray(config=MuZeroConfig(), training_steps=None, address=None,
                 progress=True, logdir=None, num_cpus=None, num_workers=1):
    """Train MuZero with its roles as Ray actors (see the module's docstring); return the
    history of :func:`homl_rl.muzero.training.train` (the same keys: test games, self-play
    games, the losses and learning rate per training step, ``training_steps`` done,
    ``played_steps``, ``played_games``, ``interrupted``, ``seconds``, ``config``, ``seed``,
    the trainer's final ``weights``) plus ``ray`` (``True``), ``num_workers``,
    ``reanalysed_games`` and ``game_steps`` (the training step at each game's start).

    ``address``: a Ray cluster's (``None``: a new local instance of ``num_cpus`` CPUs,
    default all), unless Ray is initialised already. ``num_workers``: self-play actors
    (muzero-general's CartPole has one). Not reproducible (the roles run asynchronously);
    Ctrl-C stops it after the trainer's current step."""
    training_steps = check_positive_int(
        "training_steps", config.training_steps if training_steps is None else training_steps)
    seed = config.seed
    num_workers = check_positive_int("num_workers", num_workers)
    if num_cpus is not None:
        check_positive_int("num_cpus", num_cpus)
    start = time.perf_counter()
    game = make_game(config, seed)
    observation_shape, n_actions = game.observation_shape, len(game.action_space)
    game.close()
    with ray_session(address, num_cpus) as ray, CtrlC() as ctrl_c:
        def actor(cls, *args):
            return ray.remote(num_cpus=0)(cls).remote(*args)

        trainer = actor(RayTrainer, config, seed, observation_shape, n_actions)
        storage = actor(RayStorage, trainer.get_weights.remote())
        replay_buffer = actor(RayReplayBuffer, config, seed, storage)
        workers = [actor(RaySelfPlay, config, seed + i) for i in range(num_workers)]
        tester = actor(RaySelfPlay, config, seed + num_workers)
        actors = [trainer, storage, replay_buffer, *workers, tester]
        loops = {"trainer": trainer.continuous_update_weights.remote(
                     replay_buffer, storage, training_steps),
                 "test": tester.continuous_test.remote(storage, training_steps)}
        for i, worker in enumerate(workers):
            loops[f"self_play_{i}"] = worker.continuous_self_play.remote(
                storage, replay_buffer, training_steps)
        if config.use_last_model_value:
            reanalyser = actor(RayReanalyse, config, n_actions)
            actors.append(reanalyser)
            loops["reanalyse"] = reanalyser.continuous_reanalyse.remote(
                storage, replay_buffer, training_steps)
        driver = _Driver(ray, storage, training_steps, progress, logdir)
        weights = None
        try:
            while not ctrl_c.pressed:
                driver.read_records()
                finished, _ = ray.wait(list(loops.values()), num_returns=len(loops), timeout=0)
                ray.get(finished)  # an actor's error stops the run here
                if loops["trainer"] in finished and loops["test"] in finished:
                    break
                time.sleep(POLL_SECONDS)
        finally:
            ray.get(storage.set_info.remote({"terminate": True}))
            ready, _ = ray.wait([loops["trainer"]], timeout=STOP_SECONDS)
            if ready:
                weights = ray.get(trainer.get_weights.remote())
            driver.read_records()
            info = ray.get(storage.get_infos.remote(
                ["training_step", "num_played_steps", "num_played_games",
                 "num_reanalysed_games", "weights"]))
            driver.close()
            for handle in actors:
                ray.kill(handle)
    history = driver.history()
    history.update(interrupted=ctrl_c.pressed, training_steps=info["training_step"],
                   played_steps=info["num_played_steps"], played_games=info["num_played_games"],
                   seconds=time.perf_counter() - start, config=config, seed=seed,
                   weights=info["weights"] if weights is None else weights, ray=True,
                   num_workers=num_workers, reanalysed_games=info["num_reanalysed_games"])
    return history


class _Driver:
    """What the driver does while the actors run: read the storage's new records, keep
    them, write them to TensorBoard (the tags of ``training.train``) and show the progress."""

    def __init__(self, ray, storage, training_steps, progress, logdir):
        self.ray, self.storage = ray, storage
        self.records = {"steps": [], "games": [], "tests": []}
        self.bar = progress_bar(total=training_steps, desc="MuZero (Ray)", progress=progress)
        self.log = summaries(logdir)

    def read_records(self):
        counts = {kind: len(rows) for kind, rows in self.records.items()}
        new = self.ray.get(self.storage.records_since.remote(counts))
        log = self.log
        for row in new["steps"]:
            log.scalars(row["training_step"],
                        **{f"loss/{name}": row[name] for name in TRAINING_LOSSES},
                        **{"train/lr": row["lr"]})
        for row in new["games"]:
            log.scalars(row["training_step"], **{"self_play/total_reward": row["total_reward"],
                                                 "self_play/played_games": row["played_games"]})
        for row in new["tests"]:
            log.scalars(row["training_step"], **{"test/total_reward": row["total_reward"],
                                                 "test/episode_length": row["length"]})
        for kind, rows in new.items():
            self.records[kind].extend(rows)
        steps, tests = self.records["steps"], self.records["tests"]
        if new["steps"]:
            self.bar.update(steps[-1]["training_step"] - self.bar.n)
        self.bar.set_postfix(test_reward=tests[-1]["total_reward"] if tests else None,
                             games=len(self.records["games"]),
                             loss=f"{steps[-1]['total_loss']:.3f}" if steps else None)

    def close(self):
        self.bar.close()
        self.log.close()

    def history(self):
        """The records as ``training.train``'s history lists."""
        steps, games, tests = (self.records[kind] for kind in ("steps", "games", "tests"))
        return {"test_steps": [row["training_step"] for row in tests],
                "test_rewards": [row["total_reward"] for row in tests],
                "test_played_games": [row["played_games"] for row in tests],
                "game_rewards": [row["total_reward"] for row in games],
                "game_lengths": [row["length"] for row in games],
                "game_steps": [row["training_step"] for row in games],
                **{name: [row[name] for row in steps] for name in TRAINING_LOSSES},
                "lr": [row["lr"] for row in steps]}
