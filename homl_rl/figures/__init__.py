"""The registry of every figure and animation of the chapter: one table, :data:`FIGURES`.

Each :class:`FigureSpec` names its id (once), what it shows, the module and function that
draw it, and the named runs (:mod:`homl_rl.runs`) it needs. Listing or selecting figures
reads the table and imports nothing; making a figure imports only its own module (so a
CartPole figure never loads TF-Agents), gets its runs, calls
``function(*run_results)`` — which returns the picture (a matplotlib figure, or
:class:`Frames`) and its data — and writes ``<id>.png`` or ``<id>.gif`` and
``data/<id>.json``. The data file records the runs' real config and seed and the stack
(package versions and CPU) the figure was made on.
"""

import importlib
import sys
from dataclasses import dataclass
from pathlib import Path

from homl_rl.stack import TF_AGENTS_NEEDS, has_tf_agents
from homl_rl.experiments import AGENTS, LECTURE_AGENT, STUDIES
from homl_rl.variants import CHAPTER_VARIANTS


@dataclass(frozen=True)
class FigureSpec:
    """One figure or animation: its id, what it shows, and where its drawing code lives."""
    fig_id: str
    description: str
    kind: str
    """``"figure"`` (a PNG) or ``"animation"`` (a GIF, and other formats its frames ask for)"""
    module: str
    """the module of its drawing function, e.g. ``"homl_rl.figures.dqn"``"""
    function: str
    """the drawing function: ``function(*runs) -> (picture, data)``"""
    runs: tuple = ()
    """the named runs (:data:`homl_rl.runs.RUNS`) it draws, passed in this order"""
    long_run: bool = False
    """made only when asked for (``--long`` or ``--only ID``): it needs hours of training,
    and the committed file comes from that run"""
    tight_layout: bool = True
    """``save_fig``'s ``tight_layout``"""

    def __post_init__(self):
        if self.kind not in ("figure", "animation"):
            raise ValueError(f"kind must be 'figure' or 'animation', got {self.kind!r}")

    @property
    def needs_tf_agents(self):
        """Whether its drawing code runs TF-Agents (the reference stack only)."""
        return self.module == "homl_rl.figures.tf_agents"

    def draw_function(self):
        """The drawing function (imports its module, and only it)."""
        return getattr(importlib.import_module(self.module), self.function)


@dataclass(frozen=True)
class Frames:
    """What an animation's function returns as its picture: the frames and how to save them."""
    frames: list
    interval: float = 40
    """milliseconds per frame"""
    scale: float = 0.5
    """resize factor of the saved frames"""
    formats: tuple = ("gif",)


def _grid_text(grid, seeds):
    """``"3 values x 2 seeds"``, ``"2 x 2 values x 1 seed"``: a study grid's size."""
    sizes = " x ".join(str(len(values)) for values in grid.values())
    return f"{sizes} values x {len(seeds)} seed{'s' if len(seeds) > 1 else ''}"


def _specs():
    F = "homl_rl.figures."
    specs = [
        FigureSpec("cart_pole_plot", "CartPole after one step to the right (reset(seed=42), step(1))",
                   "figure", F + "environments", "cart_pole_plot"),
        FigureSpec("basic_policy", "one episode of the hard-coded basic_policy (seed 42)",
                   "animation", F + "environments", "basic_policy_animation"),
        FigureSpec("policy_net_untrained",
                   "one episode of the untrained policy net (pg_policy, seed 42)",
                   "animation", F + "nn_policy", "untrained_policy_net_animation"),
        FigureSpec("policy_net_imitation",
                   "one episode of the policy net trained to imitate basic_policy",
                   "animation", F + "nn_policy", "imitation_policy_net_animation", ("imitation",)),
        FigureSpec("policy_gradients_rewards_plot",
                   "REINFORCE on CartPole: mean reward per iteration (150 iterations, seed 42)",
                   "figure", F + "policy_gradients", "rewards_plot", ("policy_gradients",)),
        FigureSpec("lunar_lander_rewards_plot",
                   "REINFORCE on LunarLander-v3 (exercise 8): mean reward per iteration (seed 42)",
                   "figure", F + "policy_gradients", "rewards_plot", ("lander",)),
        FigureSpec("policy_net_trained",
                   "one episode of the policy net after REINFORCE (pg_policy, seed 42)",
                   "animation", F + "policy_gradients", "trained_policy_net_animation",
                   ("policy_gradients",)),
        FigureSpec("lunar_lander_trained",
                   "one episode of the trained lander (lander_render_policy_net, seed 42)",
                   "animation", F + "policy_gradients", "trained_lander_animation", ("lander",)),
        FigureSpec("q_value_plot", "Figure 18-9: Q-value iteration vs Q-learning for Q(s0, a0)",
                   "figure", F + "markov", "q_value_plot"),
    ]
    for variant in CHAPTER_VARIANTS.values():
        specs.append(FigureSpec(
            f"{variant.name}_rewards_plot", f"{variant.figure_title} learning curve: the "
            f"notebook's per-episode rewards (600 episodes, seed 42)",
            "figure", F + "dqn", "rewards_plot", (variant.name,)))
        specs.append(FigureSpec(
            f"{variant.name}_animation",
            f"one episode of the trained {variant.title} agent (greedy, seed 42)",
            "animation", F + "dqn", "animation", (variant.name,)))
    specs += [
        FigureSpec("keras_rl_dqn_plot", "lecture 002: keras-rl2's DQNAgent on CartPole-v0, "
                   "training episode rewards and the five test episodes before and after fit "
                   "(seed 0)", "figure", F + "keras_rl", "keras_rl_dqn_plot", ("keras_rl_cartpole",)),
        FigureSpec("bandit_posteriors_plot",
                   "Thompson sampling's Beta posteriors of the 3 arms after 20 and 1,000 pulls",
                   "figure", F + "bandits", "bandit_posteriors_plot"),
        FigureSpec("bandit_regret_plot",
                   "cumulative regret vs pulls: Thompson sampling vs epsilon-greedy (500 runs)",
                   "figure", F + "bandits", "bandit_regret_plot"),
    ]
    for study in STUDIES:
        lecture = study.agent == LECTURE_AGENT
        varied = " x ".join(name.replace("_", " ") for name in study.grid)
        what = ("study of the" if study.parameter else "grid search over") + f" {varied}"
        specs.append(FigureSpec(
            study.figure, f"{what} with {AGENTS[study.agent]} (quick grid: "
                          f"{_grid_text(study.quick_grid, study.quick_seeds)}; full grid: "
                          f"{_grid_text(study.grid, study.seeds)}, `homl-rl studies"
                          f"{' --lecture' if lecture else ''} --full`)", "figure", F + "studies",
            ("lecture_study_plot" if study.parameter else "lecture_grid_search_plot")
            if lecture else "study_plot", (study.run,)))
    specs += [
        FigureSpec("q_value_heatmap_plot", "the trained DQN's Q-values over pole angle x angular "
                   "velocity, their difference and the greedy action",
                   "figure", F + "studies", "q_value_heatmap_plot", ("dqn",)),
        FigureSpec("epsilon_actions_plot", "the lecture's histograms: actions of the "
                   "epsilon-greedy policy for epsilon 0, 0.5 and 1 (100 draws each)",
                   "figure", F + "studies", "epsilon_actions_plot", ("dqn",)),
        FigureSpec("breakout_plot", "a raw Breakout frame after reset(seed=42) and FIRE (2nd ed.)",
                   "figure", F + "atari", "breakout_plot"),
        FigureSpec("preprocessed_breakout_plot",
                   "4 stacked preprocessed Breakout frames, the current one tinted (2nd ed.)",
                   "figure", F + "atari", "preprocessed_breakout_plot"),
        FigureSpec("breakout_training_plot", "exercise 9: Double Dueling DQN returns vs env "
                   "steps on Breakout (a short run)",
                   "figure", F + "breakout", "breakout_training_plot", ("breakout_short",)),
        FigureSpec("breakout", "exercise 9: the short-run Double Dueling DQN agent playing "
                   "Breakout (best evaluated weights)",
                   "animation", F + "breakout", "breakout_animation", ("breakout_short",)),
        FigureSpec("tf_agents_returns_plot", "TF-Agents DQN tutorial: average return vs "
                   "iterations (TFUniformReplayBuffer, seed 42)",
                   "figure", F + "tf_agents", "tf_agents_returns_plot", ("tf_agents_tutorial",)),
        FigureSpec("tf_agents_trained_agent", "TF-Agents DQN tutorial: the trained agent, one "
                   "episode (GIF and MP4)", "animation", F + "tf_agents",
                   "tf_agents_trained_agent", ("tf_agents_tutorial",)),
        FigureSpec("tf_agents_random_agent", "TF-Agents DQN tutorial: a random agent, five "
                   "episodes (GIF and MP4)", "animation", F + "tf_agents", "tf_agents_random_agent"),
        FigureSpec("tf_agents_vs_keras_dqn_plot", "TF-Agents' DQN and our Keras DQNs on "
                   "CartPole-v1, three comparisons (same settings; the notebook's variants; "
                   "rl-zoo3's settings): average return vs environment steps "
                   "(python -m homl_rl compare)",
                   "figure", F + "tf_agents", "tf_agents_vs_keras_dqn_plot", ("comparison",)),
        FigureSpec("sub_episodes_plot", "2 sub-episodes of 3 stacked-frame observations sampled "
                   "from the TF-Agents replay buffer (2nd ed.)", "figure", F + "tf_agents",
                   "sub_episodes_plot", tight_layout=False),
        FigureSpec("breakout_tf_agents_training_plot", "TF-Agents DQN on Breakout (2nd ed.): "
                   "average return and loss during a 1.6M-frame run", "figure", F + "tf_agents",
                   "breakout_tf_agents_training_plot", ("breakout_tf_agents_long",), long_run=True),
        FigureSpec("breakout_tf_agents", "TF-Agents DQN on Breakout (2nd ed.): the agent of a "
                   "1.6M-frame run playing (greedy policy)", "animation", F + "tf_agents",
                   "breakout_tf_agents", ("breakout_tf_agents_long",), long_run=True),
        FigureSpec("muzero_cartpole_plot", "MuZero on CartPole (muzero-general's settings, "
                   "10,000 training steps, seed 0): test rewards and losses vs training step",
                   "figure", F + "muzero", "muzero_cartpole_plot", ("muzero_cartpole_long",),
                   long_run=True),
        FigureSpec("muzero_cartpole", "MuZero on CartPole: the 10,000-step run's network "
                   "playing a test game", "animation", F + "muzero", "muzero_cartpole",
                   ("muzero_cartpole_long",), long_run=True),
    ]
    return specs


def figure_table(specs):
    """``{fig_id: spec}``, refusing an id given twice."""
    table = {}
    for spec in specs:
        if spec.fig_id in table:
            raise ValueError(f"figure id {spec.fig_id!r} is registered twice")
        table[spec.fig_id] = spec
    return table


FIGURES = figure_table(_specs())
"""Every figure and animation, in the chapter's order."""


def all_figures():
    """Every registered figure, in the chapter's order (``{fig_id: FigureSpec}``)."""
    return dict(FIGURES)


class UnknownFigureError(ValueError):
    """Raised for a figure id that is not registered, or that this stack cannot make."""


def select_figures(ids=None, long_runs=False):
    """The specs for ``ids``, or an error listing the valid ids.

    Without ``ids``: every figure but the long runs, or (``long_runs``) the long runs only,
    less the TF-Agents figures where TF-Agents is not installed (:func:`skipped_figures`
    names them). An id this stack cannot make is an error saying why.
    """
    if not ids:
        return [spec for spec in FIGURES.values()
                if spec.long_run == long_runs and (has_tf_agents() or not spec.needs_tf_agents)]
    unknown = [fig_id for fig_id in ids if fig_id not in FIGURES]
    if unknown:
        raise UnknownFigureError(
            f"unknown figure id(s): {', '.join(unknown)}; valid ids: {', '.join(FIGURES)}")
    specs = [FIGURES[fig_id] for fig_id in dict.fromkeys(ids)]
    unavailable = [spec.fig_id for spec in specs if spec.needs_tf_agents and not has_tf_agents()]
    if unavailable:
        raise UnknownFigureError(f"{', '.join(unavailable)} cannot be made here: {TF_AGENTS_NEEDS}")
    return specs


def skipped_figures(long_runs=False):
    """The ids that :func:`select_figures` leaves out on this stack (the TF-Agents ones
    where TF-Agents is not installed)."""
    return [spec.fig_id for spec in FIGURES.values()
            if spec.long_run == long_runs and spec.needs_tf_agents and not has_tf_agents()]


def save_figure(spec, picture, data, run_results, out_dir):
    """Write ``spec``'s picture (``<id>.png`` or the animation's files) and ``data/<id>.json``
    (``data`` plus the runs' config and seed, this stack and its kernel class); return the
    picture's paths."""
    from homl_rl.animation import save_animation
    from homl_rl.plotting import save_data, save_fig
    from homl_rl.kernels import kernels_record
    from homl_rl.stack import stack_info

    out_dir = Path(out_dir)
    if spec.kind == "animation":
        paths = [save_animation(picture.frames, out_dir / f"{spec.fig_id}.{fmt}",
                                picture.interval, picture.scale) for fmt in picture.formats]
    else:
        paths = [save_fig(spec.fig_id, tight_layout=spec.tight_layout, fig=picture,
                          out_dir=out_dir)]
    data = dict(data, stack=stack_info(), kernels=kernels_record())
    if run_results:
        data["run"] = (run_results[0].record() if len(run_results) == 1
                       else [result.record() for result in run_results])
    save_data(spec.fig_id, data, out_dir=out_dir)
    return paths


def make_figure(spec, out_dir, progress=False, run_results=None):
    """Make one figure: its runs (cached), its drawing, its files. ``run_results``: the
    results of its runs made otherwise (e.g. a study's full grid: ``homl-rl studies --full``),
    in place of its named runs'."""
    import matplotlib.pyplot as plt

    if run_results is not None:
        if len(run_results) != len(spec.runs):
            raise ValueError(f"{spec.fig_id} draws {len(spec.runs)} run(s), got {len(run_results)}")
    elif spec.runs:  # the runs' table loads TensorFlow and the section modules
        from homl_rl.runs import run

        run_results = [run(name, progress=progress) for name in spec.runs]
    else:
        run_results = []
    picture, data = spec.draw_function()(*run_results)
    paths = save_figure(spec, picture, data, run_results, out_dir)
    plt.close("all")
    return paths


def make_figures(ids=None, out_dir=None, progress=True, long_runs=False):
    """Regenerate the figures ``ids`` (by default all but the long runs, or with
    ``long_runs`` the long runs only) into ``out_dir``; return their specs. ``progress``
    shows the figures' bar and the training runs' bars."""
    from homl_rl.plotting import FIGURES_DIR, use_book_style
    from homl_rl.progress import progress_bar

    specs = select_figures(ids, long_runs)
    out_dir = Path(out_dir or FIGURES_DIR)
    run_names = [name for spec in specs for name in spec.runs]
    if run_names:  # the runs' table loads TensorFlow
        from homl_rl.kernels import kernel_class
        from homl_rl.runs import unproven_engines

        unproven = unproven_engines(run_names)
        if unproven:
            print(f"homl_rl: the fast engine of {', '.join(unproven)} is not proven exact on this "
                  f"machine (kernel class {kernel_class()}): their numbers may differ from the "
                  f"notebook's (`make pins` records this class)", file=sys.stderr)
    use_book_style()
    bar = progress_bar(specs, desc="figures", progress=progress, unit="fig")
    for spec in bar:
        bar.set_postfix_str(spec.fig_id)
        make_figure(spec, out_dir, progress=progress)
    return specs
