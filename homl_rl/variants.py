"""The table of DQN agents: one :class:`Variant` row per agent, :data:`VARIANTS`.

A row says what an agent is, not how its code is written: the chapter's four variants
differ in whether they keep a target network, whether that network only evaluates the
action the online model picks (Double DQN), and whether the Q-network is dueling; the
per-step agents of the other texts (keras-rl2's, lecture 003's, TF-Agents' tutorial
settings, rl-zoo3's settings) are trained by :func:`homl_rl.per_step_dqn.train_per_step` with
the preset of the same name (:data:`homl_rl.per_step_dqn.PRESETS`). Everything else derives
from the row:

- training: :func:`homl_rl.dqn.train_dqn` builds the agent class and Q-network the row
  describes (:func:`homl_rl.dqn.agent_class`, :func:`homl_rl.dqn.q_network_builder`), and
  the older revision's settings (:data:`homl_rl.dqn.OLDER_REVISION`) are the rows';
- figures: a chapter row gets a learning-curve figure and an animation
  (``<name>_rewards_plot``, ``<name>_animation``) titled :attr:`Variant.figure_title`;
- the comparison (:mod:`homl_rl.experiments.compare`) trains the chapter's rows and the
  per-step rows it names, each labelled :attr:`Variant.label`;
- the cross-check checks a chapter row's ``training_step`` and tries the hints its
  features call for (:func:`homl_rl.crosscheck.hints.training_step_mistakes`);
- the command line: ``homl-rl dqn --variant`` offers the chapter's rows.

This module imports no TensorFlow (listing figures and ``--help`` read it).
:func:`add_variant` adds a row at run time; every consumer reads the table when it is
used, or (the figure registry and the named runs) when it is imported.
"""

from collections.abc import Mapping
from dataclasses import dataclass

from homl_rl.checks import check_choice


@dataclass(frozen=True)
class Variant:
    """One DQN agent: its name, how it is shown, and what it is."""
    name: str
    """its id: ``train_dqn(name)``, figure ids, the comparison, the command line; a per-step
    row's preset has the same name"""
    title: str
    """its section's name (or its text's), for reports, progress bars and figure descriptions"""
    label: str
    """its name in the comparison's figure and table"""
    learning_rate: float = None
    """a chapter row's learning rate (its cell's Nadam); a per-step row's is its preset's"""
    target_network: bool = True
    """whether it keeps a target network (the chapter's DQN does not)"""
    double_dqn: bool = False
    """whether the online model picks the next action and the target evaluates it"""
    dueling: bool = False
    """whether its Q-network is the dueling one (a state value plus advantages)"""
    figure: str = None
    """the book's figure of its learning curve, if it has one (e.g. ``"Figure 18–10"``)"""
    older_revision: dict = None
    """the older revision's :class:`homl_rl.dqn.DQNConfig` settings for it, or ``None``
    when the older revision has no such variant"""
    per_step: bool = False
    """a per-step row: trained by :func:`homl_rl.per_step_dqn.train_per_step` with
    ``PRESETS[name]``, its sums of rewards returned"""
    env_id: str = "CartPole-v1"
    """the environment it trains on"""
    n_steps: int = None
    """a per-step row's default training length, in environment steps"""

    def __post_init__(self):
        if not self.name.isidentifier():
            raise ValueError(f"a variant's name is an identifier (it names figures and runs), "
                             f"got {self.name!r}")
        if self.double_dqn and not self.target_network:
            raise ValueError(f"variant {self.name!r}: Double DQN needs a target network")
        if self.per_step and self.older_revision is not None:
            raise ValueError(f"variant {self.name!r}: the older revision has the chapter's "
                             f"variants only")
        if not self.per_step and (self.learning_rate is None or self.learning_rate <= 0):
            raise ValueError(f"variant {self.name!r}: a chapter variant needs its learning "
                             f"rate > 0, got {self.learning_rate!r}")

    @property
    def figure_title(self):
        """Its learning curve's title: the book's figure and the title, or the title."""
        return f"{self.figure}: {self.title}" if self.figure else self.title


VARIANTS = {variant.name: variant for variant in (
    Variant("dqn", "DQN", "Keras DQN", 1e-2, target_network=False, figure="Figure 18–10",
            older_revision=dict(optimizer="adam", learning_rate=1e-2, loss="mse",
                                training_starts_after=50)),
    Variant("fixed_q_targets", "fixed Q-value targets", "Keras fixed Q-targets", 1e-2),
    Variant("double_dqn", "Double DQN", "Keras Double DQN", 1e-2, double_dqn=True,
            older_revision=dict(optimizer="adam", learning_rate=6e-3, loss="huber",
                                training_starts_after=49)),
    Variant("dueling_double_dqn", "Dueling Double DQN", "Keras Dueling Double DQN", 5e-3,
            double_dqn=True, dueling=True,
            older_revision=dict(optimizer="adam", learning_rate=7.5e-3, loss="huber",
                                training_starts_after=49)),
    Variant("keras_rl_dqn", "keras-rl2's DQNAgent (lecture 002)", "keras-rl2's DQN settings",
            per_step=True, env_id="CartPole-v0", n_steps=5000),
    Variant("lecture_dqn", "lecture 003's DQN", "lecture 003's DQN", per_step=True,
            env_id="CartPole-v0"),
    Variant("tf_agents_dqn", "TF-Agents' DqnAgent at its tutorial's settings",
            "Keras DQN at TF-Agents' settings", per_step=True, n_steps=100 + 20_000),
    Variant("rl_zoo_dqn", "SB3's DQN at rl-zoo3's CartPole-v1 settings",
            "Keras DQN at rl-zoo3's settings", per_step=True, n_steps=50_000),
)}
"""The one table of DQN agents: the chapter's four variants in its order (their learning
rates and older-revision settings are the notebook's cells'), then the per-step rows.
``tf_agents_dqn`` plays the tutorial's 100 random steps and 20,000 iterations (one step
each); ``rl_zoo_dqn`` trains for rl-zoo3's 50,000 steps (``n_timesteps: 5e4``) unless
``n_episodes`` ends it first; ``keras_rl_dqn`` has keras-rl2's settings, but keras-rl2's own
loop is :class:`homl_rl.keras_rl.DQNAgent`."""


class RowsView(Mapping):
    """A live, read-only view of the :data:`VARIANTS` rows that ``keep`` accepts, in the
    table's order: ``value(row)`` by name (the row itself by default)."""

    def __init__(self, keep, value=None):
        self._keep = keep
        self._value = value or (lambda row: row)

    def _rows(self):
        return {name: self._value(row) for name, row in VARIANTS.items() if self._keep(row)}

    def __getitem__(self, name):
        return self._rows()[name]

    def __iter__(self):
        return iter(self._rows())

    def __len__(self):
        return len(self._rows())

    def __repr__(self):
        return f"{type(self).__name__}({list(self)})"


CHAPTER_VARIANTS = RowsView(lambda row: not row.per_step)
"""The chapter's variants (a live view of :data:`VARIANTS`), in its order: what training by
episodes, the cross-check, the comparison, the figures and the command line mean by "the DQN
variants"."""

PER_STEP_VARIANTS = RowsView(lambda row: row.per_step)
"""The per-step agents of the other texts (a live view of :data:`VARIANTS`)."""


def variant_named(name, table=VARIANTS):
    """``table[name]``, or a ``ValueError`` listing the valid names."""
    return table[check_choice("variant", name, table)]


def add_variant(variant):
    """Add a row to :data:`VARIANTS` (a per-step row needs its preset, of the same name, in
    :data:`homl_rl.per_step_dqn.PRESETS`); return it. A name already taken is an error."""
    if not isinstance(variant, Variant):
        raise TypeError(f"add_variant takes a Variant, got {type(variant).__name__}")
    if variant.name in VARIANTS:
        raise ValueError(f"variant {variant.name!r} is already in the table")
    VARIANTS[variant.name] = variant
    return variant
