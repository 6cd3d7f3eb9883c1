"""The command line: options generated from the config dataclasses, and every bad argument
refused with one error line naming it, exit code 2, nothing written."""

import argparse
import dataclasses
import subprocess
import sys
from pathlib import Path

import pytest

from homl_rl import cli
from homl_rl.cli import SUBCOMMANDS, add_config_options, build_config, build_parser, main
from homl_rl.history import TrainingHistory
from homl_rl.stack import has_tf_agents

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = str(REPO / "examples" / "crosscheck" / "reader_correct.py")

# --- the generator ------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class Inner:
    """A nested config."""
    rate: float = 0.5
    """a probability"""
    flag: bool = True
    """a switch"""

    def __post_init__(self):
        if not 0 <= self.rate <= 1:
            raise ValueError(f"rate must be in [0, 1], got {self.rate}")


@dataclasses.dataclass(frozen=True)
class Toy:
    """A config with one field of each kind the generator reads."""
    n_steps: int = 1_000
    """steps of the run"""
    name: str = "toy"
    """a name"""
    tau: float = None
    """an optional rate"""
    sizes: tuple = (4, 8)
    """layer sizes"""
    inner: Inner = dataclasses.field(default_factory=Inner)
    """the nested part"""
    seed: int = 42

    def __post_init__(self):
        if self.n_steps < 1:
            raise ValueError(f"n_steps must be a positive integer, got {self.n_steps}")


def _toy_parser():
    parser = cli.Parser(prog="toy")
    options = add_config_options(parser, Toy, aliases={"n_steps": "--steps"})
    return parser, options


def test_options_types_defaults_and_help_come_from_the_dataclass():
    parser, options = _toy_parser()
    assert options == {"n_steps": "--steps", "name": "--name", "tau": "--tau", "sizes": "--sizes",
                       "inner.rate": "--rate", "inner.flag": "--flag", "seed": "--seed"}
    help_text = " ".join(parser.format_help().split())
    assert "steps of the run (default: 1000)" in help_text
    assert "an optional rate (default: none)" in help_text
    assert "layer sizes (default: 4 8)" in help_text
    assert "--flag, --no-flag" in help_text
    values = {key.split(":", 1)[1]: value for key, value in vars(parser.parse_args([])).items()}
    assert build_config(Toy, values) == Toy()  # nothing given: the dataclass defaults
    args = parser.parse_args(["--steps", "5", "--tau", "0.1", "--sizes", "1", "2", "3",
                              "--rate", "0.25", "--no-flag", "--seed", "7"])
    values = {key.split(":", 1)[1]: value for key, value in vars(args).items()}
    assert build_config(Toy, values) == Toy(n_steps=5, tau=0.1, sizes=(1, 2, 3),
                                            inner=Inner(rate=0.25, flag=False), seed=7)
    args = parser.parse_args(["--tau", "none"])
    assert vars(args) == {"config:tau": None}


def test_a_config_error_names_the_option_and_drops_the_field_name():
    _, options = _toy_parser()
    assert cli._config_error(ValueError("n_steps must be a positive integer, got 0"), options) == (
        "argument --steps: must be a positive integer, got 0")
    assert cli._config_error(ValueError("rate must be in [0, 1], got 2"), options) == (
        "argument --rate: must be in [0, 1], got 2")
    assert cli._config_error(ValueError("something else"), options) == "something else"


def test_a_field_without_a_text_parser_must_be_excluded():
    @dataclasses.dataclass
    class Nested:
        layers: tuple = ((1, 2), (3, 4))

    with pytest.raises(TypeError, match="Nested.layers: no command-line parser"):
        add_config_options(cli.Parser(), Nested)
    assert add_config_options(cli.Parser(), Nested, exclude=("layers",)) == {}


TF_AGENTS_COMMANDS = {name for name, command in SUBCOMMANDS.items() if command.needs_tf_agents}
needs_tf_agents = pytest.mark.skipif(
    not has_tf_agents(), reason="TF-Agents runs on the reference stack only (what its "
                                "commands say on the current stack: tests/test_stack.py)")


def _params(names):
    """``names`` as pytest params, those of TF-Agents' subcommands marked ``needs_tf_agents``."""
    params = []
    for name in names:
        values = name if isinstance(name, tuple) else (name,)
        marks = needs_tf_agents if values[0] in TF_AGENTS_COMMANDS else ()
        params.append(pytest.param(*values, marks=marks))
    return params


def test_the_subcommands_parse_to_their_default_configs():
    from homl_rl.breakout import BreakoutConfig

    assert cli.parse_args(["breakout", "train"]).config == BreakoutConfig()
    args = cli.parse_args(["breakout", "train", "--steps", "50", "--env", "ALE/Pong-v5"])
    assert args.config == BreakoutConfig(n_steps=50, env_id="ALE/Pong-v5")


@needs_tf_agents
def test_the_tf_agents_subcommands_parse_to_their_default_configs():
    from homl_rl.tf_agents_pipeline.breakout import TFAgentsBreakoutConfig

    args = cli.parse_args(["breakout-tf-agents", "train", "--repeat-action-probability", "0.25",
                           "--replay-capacity", "300"])
    default = TFAgentsBreakoutConfig()
    assert args.config == dataclasses.replace(
        default, replay_capacity=300,
        atari=dataclasses.replace(default.atari, repeat_action_probability=0.25))


# --- every bad argument -----------------------------------------------------------------------

BAD = {  # (subcommand, option): (arguments before it, bad value, what the error must say)
    ("figures", "--only"): ([], ["nope"], "unknown figure id(s): nope"),
    ("figures", "--out"): (["--only", "cart_pole_plot"], ["/proc/nope"], "cannot write in"),
    ("studies", "--parameter"): ([], ["gamma"], "invalid choice"),
    ("studies", "--jobs"): ([], ["0"], "must be a positive integer, got 0"),
    ("studies", "--out"): ([], ["/proc/nope"], "cannot write in"),
    ("studies", "--episodes"): ([], ["0"], "must be a positive integer, got 0"),
    ("studies", "--logdir"): ([], ["/proc/nope"], "cannot write in"),
    ("studies", "--ray-address"): ([], ["auto"], "needs --ray"),
    ("tf-agents", "--out"): ([], ["/proc/nope"], "cannot write in"),
    ("tf-agents", "--env"): ([], ["CartPol-v0"], "unknown Gymnasium environment id"),
    ("tf-agents", "--iterations"): ([], ["0"], "must be a positive integer"),
    ("tf-agents", "--initial-collect-steps"): ([], ["-1"], "must be a positive integer"),
    ("tf-agents", "--collect-steps-per-iteration"): ([], ["0"], "must be a positive integer"),
    ("tf-agents", "--replay-buffer-max-length"): ([], ["0"], "must be a positive integer"),
    ("tf-agents", "--batch-size"): ([], ["0"], "must be a positive integer"),
    ("tf-agents", "--learning-rate"): ([], ["-0.1"], "must be a positive number"),
    ("tf-agents", "--log-interval"): ([], ["0"], "must be a positive integer"),
    ("tf-agents", "--num-eval-episodes"): ([], ["0"], "must be a positive integer"),
    ("tf-agents", "--eval-interval"): ([], ["1.5"], "invalid int value"),
    ("tf-agents", "--fc-layer-params"): ([], ["100", "0"], "must be a positive integer"),
    ("tf-agents", "--replay-buffer"): ([], ["deque"], "must be one of"),
    ("tf-agents", "--seed"): ([], ["-1"], "must be an integer in [0, 4294967295], got -1"),
    ("breakout-tf-agents", "action"): ([], ["fly"], "invalid choice"),
    ("breakout-tf-agents", "--checkpoint-dir"): (["train"], ["/proc/nope"], "cannot write in"),
    ("breakout-tf-agents", "--steps"): (["play"], ["0"], "must be a positive integer"),
    ("breakout-tf-agents", "--frames"): (["play"], ["x"], "invalid int value"),
    ("breakout-tf-agents", "--out"): (["play"], ["movie.avi"], "must end with .gif"),
    ("breakout-tf-agents", "--fc-layer-params"): (["train"], ["-512"], "must be a positive"),
    ("breakout-tf-agents", "--learning-rate"): (["train"], ["inf"], "must be a finite number"),
    ("breakout-tf-agents", "--train-period"): (["train"], ["0"], "must be a positive integer"),
    ("breakout-tf-agents", "--epsilon-decay-steps"): (["train"], ["0"], "must be a positive"),
    ("breakout-tf-agents", "--epsilon-end"): (["train"], ["1.5"], "must be in [0, 1]"),
    ("breakout-tf-agents", "--target-update-period"): (["train"], ["0"], "must be a positive"),
    ("breakout-tf-agents", "--discount-factor"): (["train"], ["1.5"], "must be in [0, 1]"),
    ("breakout-tf-agents", "--replay-capacity"): (["train"], ["0"], "must be a positive integer"),
    ("breakout-tf-agents", "--initial-collect-steps"): (["train"], ["0"], "must be a positive"),
    ("breakout-tf-agents", "--batch-size"): (["train"], ["0"], "must be a positive integer"),
    ("breakout-tf-agents", "--iterations"): (["train"], ["0"], "must be a positive integer"),
    ("breakout-tf-agents", "--log-interval"): (["train"], ["0"], "must be a positive integer"),
    ("breakout-tf-agents", "--checkpoint-interval"): (["train"], ["0"], "must be a positive"),
    ("breakout-tf-agents", "--seed"): (["train"], ["4294967296"], "must be an integer in [0"),
    ("breakout-tf-agents", "--frame-skip"): (["train"], ["0"], "must be a positive integer"),
    ("breakout-tf-agents", "--max-episode-steps"): (["train"], ["0"], "must be a positive"),
    ("breakout-tf-agents", "--repeat-action-probability"): (["train"], ["2"], "must be in [0, 1]"),
    ("breakout-tf-agents", "--noop-max"): (["train"], ["-1"], "must be a non-negative integer"),
    ("breakout-tf-agents", "--logdir"): (["train"], ["/proc/nope"], "cannot write in"),
    ("breakout", "action"): ([], ["fly"], "invalid choice"),
    ("breakout", "--out"): (["train"], ["/proc/nope"], "cannot write in"),
    ("breakout", "--checkpoint"): (["play"], ["no_such_run"], "no checkpoint at"),
    ("breakout", "--gif"): (["play"], ["movie.avi"], "must end with .gif, .mp4, .html"),
    ("breakout", "--max-steps"): (["play"], ["0"], "must be a positive integer"),
    ("breakout", "--steps"): (["train"], ["0"], "must be a positive integer, got 0"),
    ("breakout", "--env"): (["train"], ["CartPole-v1"], "must be an Atari id"),
    ("breakout", "--replay-capacity"): (["train"], ["0"], "must be a positive integer, got 0"),
    ("breakout", "--batch-size"): (["train"], ["0"], "must be a positive integer"),
    ("breakout", "--discount-factor"): (["train"], ["1.01"], "must be in [0, 1]"),
    ("breakout", "--learning-rate"): (["train"], ["0"], "must be a positive number"),
    ("breakout", "--epsilon-start"): (["train"], ["-1"], "must be in [0, 1]"),
    ("breakout", "--epsilon-end"): (["train"], ["nan"], "must be a finite number"),
    ("breakout", "--epsilon-decay-steps"): (["train"], ["0"], "must be a positive integer"),
    ("breakout", "--training-starts"): (["train"], ["-1"], "must be a non-negative integer"),
    ("breakout", "--train-period"): (["train"], ["0"], "must be a positive integer"),
    ("breakout", "--target-update-period"): (["train"], ["0"], "must be a positive integer"),
    ("breakout", "--soft-target-update"): (["train"], ["0"], "must be in (0, 1]"),
    ("breakout", "--eval-interval"): (["train"], ["0"], "must be a positive integer"),
    ("breakout", "--eval-episodes"): (["train"], ["0"], "must be a positive integer"),
    ("breakout", "--eval-max-steps"): (["train"], ["0"], "must be a positive integer"),
    ("breakout", "--eval-epsilon"): (["train"], ["2"], "must be in [0, 1]"),
    ("breakout", "--eval-seed"): (["train"], ["-5"], "must be an integer in [0"),
    ("breakout", "--checkpoint-interval"): (["train"], ["0"], "must be a positive integer"),
    ("breakout", "--seed"): (["train"], ["x"], "invalid int value: 'x'"),
    ("breakout", "--logdir"): (["train"], ["/proc/nope"], "cannot write in"),
    ("compare", "--jobs"): ([], ["0"], "must be a positive integer"),
    ("compare", "--out"): ([], ["/proc/nope"], "cannot write in"),
    ("compare", "--results"): ([], ["/proc/nope/results.md"], "cannot write in"),
    ("compare", "--cache-dir"): ([], ["/proc/nope"], "cannot write in"),
    ("compare", "--env-steps"): ([], ["100"], "must be at least 200"),
    ("compare", "--eval-interval"): ([], ["0"], "must be a positive integer"),
    ("compare", "--eval-episodes"): ([], ["0"], "must be a positive integer"),
    ("compare", "--seeds"): ([], ["-1"], "must be an integer in [0, 4294967295], got -1"),
    ("compare", "--agents"): ([], ["dqn", "ppo"], "must be among"),
    ("compare", "--solved-return"): ([], ["many"], "invalid float value"),
    ("compare", "--eval-seed"): ([], ["-1"], "must be an integer in [0"),
    ("dqn", "--variant"): ([], ["keras_rl_dqn"], "invalid choice"),
    ("dqn", "--seed"): ([], ["-1"], "must be an integer in [0"),
    ("dqn", "--engine"): ([], ["gpu"], "invalid choice"),
    ("dqn", "--out"): ([], ["/proc/nope/run.json"], "cannot write in"),
    ("dqn", "--episodes"): ([], ["0"], "must be a positive integer, got 0"),
    ("dqn", "--n-max-steps"): ([], ["0"], "must be a positive integer, got 0"),
    ("dqn", "--batch-size"): ([], ["0"], "must be a positive integer, got 0"),
    ("dqn", "--discount-factor"): ([], ["2"], "must be in [0, 1], got 2"),
    ("dqn", "--learning-rate"): ([], ["0"], "must be a positive number, got 0"),
    ("dqn", "--optimizer"): ([], ["adamm"], "must be one of 'adadelta'"),
    ("dqn", "--loss"): ([], ["mae"], "must be one of 'huber', 'mse', got 'mae'"),
    ("dqn", "--replay-buffer-size"): ([], ["0"], "must be a positive integer, got 0"),
    ("dqn", "--epsilon-decay-episodes"): ([], ["0"], "must be a positive integer, got 0"),
    ("dqn", "--min-epsilon"): ([], ["2"], "must be in [0, 1], got 2"),
    ("dqn", "--training-starts-after"): ([], ["-1"], "must be a non-negative integer, got -1"),
    ("dqn", "--target-update-period"): ([], ["0"], "must be a positive integer, got 0"),
    ("dqn", "--soft-target-update"): ([], ["0"], "must be in (0, 1], got 0"),
    ("dqn", "--replay-buffer"): ([], ["list"], "must be 'deque' or 'numpy', got 'list'"),
    ("dqn", "--revision"): ([], ["v2"], "must be one of 'current', 'older', got 'v2'"),
    ("policy-gradients", "--engine"): ([], ["gpu"], "invalid choice"),
    ("policy-gradients", "--out"): ([], ["/proc/nope/run.json"], "cannot write in"),
    ("policy-gradients", "--iterations"): ([], ["0"], "must be a positive integer, got 0"),
    ("policy-gradients", "--episodes"): ([], ["0"], "must be a positive integer, got 0"),
    ("policy-gradients", "--n-max-steps"): ([], ["0"], "must be a positive integer, got 0"),
    ("policy-gradients", "--discount-factor"): ([], ["2"], "must be in [0, 1], got 2"),
    ("policy-gradients", "--learning-rate"): ([], ["0"], "must be a positive number, got 0"),
    ("policy-gradients", "--seed"): ([], ["-1"], "must be an integer in [0"),
    ("policy-gradients", "--optimizer"): ([], ["adamm"], "must be one of 'adadelta'"),
    ("policy-gradients", "--revision"): ([], ["v2"], "must be one of 'current', 'older', got 'v2'"),
    ("muzero", "action"): ([], ["fly"], "invalid choice"),
    ("muzero", "--seed"): (["train"], ["-1"], "must be an integer in [0"),
    ("muzero", "--checkpoint-dir"): (["play"], ["no_such_run"], "no checkpoint at"),
    ("muzero", "--save-interval"): (["train"], ["0"], "must be a positive integer, got 0"),
    ("muzero", "--final-test-episodes"): (["train"], ["-1"], "must be an integer >= 0, got -1"),
    ("muzero", "--gif"): (["play"], ["movie.avi"], "must end with .gif, .mp4, .html"),
    ("muzero", "--logdir"): (["train"], ["/proc/nope"], "cannot write in"),
    ("muzero", "--env"): (["train"], ["CartPole-v9"], "unknown Gymnasium environment id"),
    ("muzero", "--stacked-observations"): (["train"], ["-1"], "must be a non-negative integer"),
    ("muzero", "--max-moves"): (["train"], ["0"], "must be a positive integer, got 0"),
    ("muzero", "--num-simulations"): (["train"], ["0"], "must be a positive integer, got 0"),
    ("muzero", "--discount"): (["train"], ["1.5"], "must be in [0, 1]"),
    ("muzero", "--temperature-threshold"): (["train"], ["-1"], "must be a non-negative"),
    ("muzero", "--root-dirichlet-alpha"): (["train"], ["0"], "must be a positive number"),
    ("muzero", "--root-exploration-fraction"): (["train"], ["2"], "must be in [0, 1]"),
    ("muzero", "--pb-c-base"): (["train"], ["0"], "must be a positive number"),
    ("muzero", "--pb-c-init"): (["train"], ["nan"], "must be a finite number"),
    ("muzero", "--support-size"): (["train"], ["0"], "must be a positive integer, got 0"),
    ("muzero", "--encoding-size"): (["train"], ["0"], "must be a positive integer, got 0"),
    ("muzero", "--fc-representation-layers"): (["train"], ["8", "0"], "must be a positive"),
    ("muzero", "--fc-dynamics-layers"): (["train"], ["-16"], "must be a positive integer"),
    ("muzero", "--fc-reward-layers"): (["train"], ["x"], "invalid int value"),
    ("muzero", "--fc-value-layers"): (["train"], ["0"], "must be a positive integer"),
    ("muzero", "--fc-policy-layers"): (["train"], ["1.5"], "invalid int value"),
    ("muzero", "--training-steps"): (["train"], ["0"], "must be a positive integer, got 0"),
    ("muzero", "--batch-size"): (["train"], ["0"], "must be a positive integer, got 0"),
    ("muzero", "--checkpoint-interval"): (["train"], ["0"], "must be a positive integer"),
    ("muzero", "--value-loss-weight"): (["train"], ["0"], "must be a positive number"),
    ("muzero", "--weight-decay"): (["train"], ["-1"], "must be a number >= 0"),
    ("muzero", "--lr-init"): (["train"], ["0"], "must be a positive number"),
    ("muzero", "--lr-decay-rate"): (["train"], ["0"], "must be in (0, 1]"),
    ("muzero", "--lr-decay-steps"): (["train"], ["0"], "must be a positive integer, got 0"),
    ("muzero", "--replay-buffer-size"): (["train"], ["0"], "must be a positive integer"),
    ("muzero", "--num-unroll-steps"): (["train"], ["0"], "must be a positive integer, got 0"),
    ("muzero", "--td-steps"): (["train"], ["0"], "must be a positive integer, got 0"),
    ("muzero", "--per-alpha"): (["train"], ["2"], "must be in [0, 1]"),
    ("muzero", "--ratio"): (["train"], ["0"], "must be a positive number"),
    ("muzero", "--test-interval"): (["train"], ["0"], "must be a positive integer, got 0"),
    ("muzero", "--minutes"): (["train"], ["0"], "must be a positive number"),
    ("muzero", "--ray-address"): (["train"], ["auto"], "needs --ray"),
    ("muzero", "--num-workers"): (["train"], ["2"], "needs --ray"),
    ("muzero", "--observation"): (["train"], ["pixels"], "must be one of 'state', 'frames'"),
    ("muzero", "--frame-shape"): (["train"], ["32"], "a (height, width) pair"),
    ("muzero", "--frame-crop"): (["train"], ["0.8", "0.4"], "0 <= top < bottom <= 1"),
    ("muzero", "--conv-filters"): (["train"], ["0"], "must be a positive integer"),
    ("muzero", "--conv-kernel-size"): (["train"], ["0"], "must be a positive integer, got 0"),
    ("crosscheck", "PATH"): ([], ["no_such_file.py"], "no such file"),
    ("crosscheck", "--only"): ([EXAMPLE], ["no_such_check"], "no_such_check"),
    ("crosscheck", "--format"): ([EXAMPLE], ["xml"], "invalid choice"),
    ("crosscheck", "--timeout"): ([EXAMPLE], ["0"], "must be a positive number"),
    ("crosscheck", "--run-episodes"): ([EXAMPLE], ["0"], "must be a positive integer, got 0"),
    ("crosscheck", "--run-seconds"): ([EXAMPLE], ["0"], "must be a positive number"),
}


def _options(command):
    """Every option of ``command`` that takes a value (flags cannot be given a bad one)."""
    parser = build_parser([command])
    [subparsers] = [action for action in parser._actions
                    if isinstance(action, argparse._SubParsersAction)]
    return {action.option_strings[0] if action.option_strings else action.metavar or action.dest
            for action in subparsers.choices[command]._actions if action.nargs != 0}


@pytest.mark.parametrize("command", _params(list(SUBCOMMANDS)))
def test_the_table_walks_every_option_of_every_subcommand(command):
    assert _options(command) == {option for cmd, option in BAD if cmd == command}


@pytest.mark.parametrize("command, option", _params(list(BAD)))
def test_a_bad_value_is_one_error_line_naming_the_option_and_nothing_is_written(
        command, option, tmp_path, monkeypatch, capsys):
    before, value, message = BAD[command, option]
    argv = [command, *before, *(value if not option.startswith("-") else [option, *value])]
    monkeypatch.chdir(tmp_path)  # the default outputs would land here
    try:
        code = main(argv)
    except SystemExit as exit_:
        code = exit_.code
    err = capsys.readouterr().err
    assert code == 2, err
    assert "Traceback" not in err
    [line] = err.strip().splitlines()
    assert line.startswith(f"homl-rl {command}: error: ")
    named = f"argument {option}: " if option.startswith("-") or option == "PATH" else "argument "
    if (command, option) not in {("crosscheck", "PATH"), ("crosscheck", "--only")}:
        assert named in line  # (the cross-check names the missing file or the unknown check)
    assert message in line
    assert not any(tmp_path.iterdir())


def test_an_existing_file_is_not_an_output_folder(tmp_path, capsys):
    (tmp_path / "a_file").write_text("x")
    with pytest.raises(SystemExit) as exit_:
        main(["figures", "--only", "cart_pole_plot", "--out", str(tmp_path / "a_file")])
    assert exit_.value.code == 2
    assert "argument --out: " in capsys.readouterr().err
    assert [path.name for path in tmp_path.iterdir()] == ["a_file"]


def _run(*args, cwd):
    return subprocess.run([sys.executable, "-m", "homl_rl", *args], capture_output=True,
                          text=True, cwd=cwd)


def test_the_issues_figures_traceback_is_now_a_one_line_error(tmp_path):
    result = _run("figures", "--out", "/proc/nope", "--only", "cart_pole_plot", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1] == (
        "homl-rl figures: error: argument --out: cannot write in /proc/nope: "
        "No such file or directory")


@needs_tf_agents
def test_the_issues_compare_traceback_is_now_a_one_line_error(tmp_path):
    result = _run("compare", "--seeds", "-1", cwd=tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1] == (
        "homl-rl compare: error: argument --seeds: must be an integer in [0, 4294967295], got -1")
    assert not any(tmp_path.iterdir())


def test_the_top_level_help_loads_no_tensorflow():
    code = ("import sys\nfrom homl_rl.cli import main\ntry:\n    main(['--help'])\n"
            "except SystemExit as exit_:\n    assert exit_.code == 0\n"
            "assert 'tensorflow' not in sys.modules, 'tensorflow imported'\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "breakout-tf-agents" in result.stdout and "crosscheck" in result.stdout


def test_the_dqn_config_is_built_once_from_the_parser_to_the_training_loop(monkeypatch, capsys):
    """``homl-rl dqn``: the command line builds the :class:`DQNConfig` (the revision's settings,
    then the options given), and that very object reaches the training loop; no other
    ``DQNConfig`` is made on the way."""
    from homl_rl import dqn

    made, built, trained = [], [], []
    post_init = dqn.DQNConfig.__post_init__

    def counted_post_init(self):
        made.append(self)
        post_init(self)

    def recorded_build(args, values):
        built.append(cli._build_dqn_config(args, values))
        return built[-1]

    def recorded_train(agent, env, config, **kwargs):
        trained.append(config)
        return TrainingHistory(episode_rewards=[10.0, 200.0], episode_lengths=[10, 200],
                               config=config)

    monkeypatch.setattr(dqn.DQNConfig, "__post_init__", counted_post_init)
    monkeypatch.setitem(cli.SUBCOMMANDS, "dqn",
                        dataclasses.replace(cli.SUBCOMMANDS["dqn"], build=recorded_build))
    monkeypatch.setattr(dqn, "train", recorded_train)
    assert cli.main(["dqn", "--variant", "double_dqn", "--revision", "older", "--episodes", "2",
                     "--batch-size", "16", "--quiet"]) == 0
    assert len(made) == 1 and built == made and trained[0] is made[0]
    config = made[0]
    assert (config.revision, config.optimizer, config.learning_rate) == ("older", "adam", 6e-3)
    assert (config.n_episodes, config.batch_size) == (2, 16)
    assert "double_dqn, older revision, seed 42: 2 episodes" in capsys.readouterr().out
