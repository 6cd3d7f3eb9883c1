"""The lecture's closing challenge: MuZero learning CartPole from its rendered frames, within
60 minutes of training on this machine. Writes ``benchmarks/results_muzero_frames.md``.

The run is :data:`homl_rl.muzero.config.FRAMES_CARTPOLE` (grayscale 32 x 96 frames of the
cart's rows, two past frames stacked with their actions, a convolutional representation)
trained by :func:`homl_rl.muzero.training.train` at ``--seed`` towards the lecture's 10,000
training steps, stopped once ``--minutes`` of training are spent (``time_limit``). It is
checkpointed in ``.cache/muzero/frames_seedS`` (run again with more minutes, it resumes).
Then the final weights play ``--final-games`` test games (temperature 0, no root noise),
outside the time limit. How far a time-limited run gets depends on the machine's speed and
load, so the file records both.

    python benchmarks/muzero_frames_challenge.py --minutes 60
"""

import argparse
import datetime
import os
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from results_file import write_results  # noqa: E402
from homl_rl.checkpoints import read_checkpoint  # noqa: E402
from homl_rl.muzero.config import FRAMES_CARTPOLE  # noqa: E402
from homl_rl.muzero.self_play import SelfPlay  # noqa: E402
from homl_rl.muzero.training import MUZERO_CHECKPOINT_NAME, train  # noqa: E402
from homl_rl.paths import MUZERO_RUNS  # noqa: E402
from homl_rl.stack import stack_line  # noqa: E402

FINAL_GAMES_SEED = 10_000
"""the final test games' seed offset (their resets differ from the run's own games')"""


def final_games(config, weights, seed, n):
    """Total rewards of ``n`` test games of ``weights`` (temperature 0, no root noise)."""
    player = SelfPlay(config, seed)
    try:
        return [player.play_game(weights, temperature=0, add_exploration_noise=False).total_reward
                for _ in range(n)]
    finally:
        player.close()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=60)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--final-games", type=int, default=10)
    parser.add_argument("--out", type=Path,
                        default=Path(__file__).with_name("results_muzero_frames.md"))
    parser.add_argument("--note", default=None, help="a sentence appended to the file")
    args = parser.parse_args(argv)
    config = replace(FRAMES_CARTPOLE, seed=args.seed)
    run_dir = MUZERO_RUNS / f"frames_seed{args.seed}"
    history = train(config, checkpoint_dir=run_dir, final_test_episodes=0,
                    time_limit=args.minutes * 60)
    if history["interrupted"]:
        raise SystemExit(f"interrupted: run again to resume the run in {run_dir}")
    meta, _ = read_checkpoint(run_dir / MUZERO_CHECKPOINT_NAME)
    final = final_games(config, history["weights"], args.seed + FINAL_GAMES_SEED,
                        args.final_games)
    tests = list(zip(history["test_steps"], history["test_rewards"]))
    loads = [load for _, load in meta.get("load_averages", [])]
    frame = "x".join(map(str, config.frame_shape))
    lines = [
        "# MuZero on CartPole from rendered frames: the lecture's challenge", "",
        f"Written {datetime.date.today()} by `benchmarks/muzero_frames_challenge.py "
        f"--minutes {args.minutes:g} --seed {args.seed}`; {stack_line()}, "
        f"{os.cpu_count()} cores, 1-min load {min(loads):.1f}-{max(loads):.1f} at the "
        "checkpoints (other runs shared the machine).", "",
        f"`FRAMES_CARTPOLE`: grayscale {frame} frames of rows {config.frame_crop} of the "
        f"render, {config.stacked_observations} past frames stacked with their actions, "
        f"convolutions {config.conv_filters} ({config.conv_kernel_size}x{config.conv_kernel_size}"
        f", stride 2), a {config.encoding_size}-unit hidden state, "
        f"{config.num_simulations} simulations; muzero-general's CartPole settings otherwise.",
        "",
        f"- Training time: {meta['seconds'] / 60:.1f} min (limit {args.minutes:g} min)",
        f"- Training steps: {history['training_steps']:,} of {config.training_steps:,}",
        f"- Games played: {history['played_games']} ({history['played_steps']:,} moves)",
        f"- Test games (temperature 0, every {config.test_interval} steps): best "
        f"{max(r for _, r in tests):.0f}, last {tests[-1][1]:.0f}" if tests else
        "- Test games: none yet",
        f"- Final weights, {len(final)} test games: {np.mean(final):.1f} ± {np.std(final):.1f} "
        f"(min {min(final):.0f}, max {max(final):.0f})" if final else "- No final games",
        "", "| training step | test game |", "|---:|---:|",
        *(f"| {step:,} | {reward:.0f} |" for step, reward in tests)]
    write_results(args.out, lines, [args.note])


if __name__ == "__main__":
    main()
