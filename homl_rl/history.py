"""What a DQN's training records: one :class:`TrainingHistory` for every DQN of the project.

The chapter's variants (:func:`homl_rl.dqn.train_dqn`) and the agents that train every step
(:func:`homl_rl.per_step_dqn.train_per_step`: keras-rl2's, lecture 003's, the presets) return
the same record, its numbers meaning the same thing whatever the row::

    history, model = train_dqn("double_dqn", n_episodes=100)
    history.episode_rewards   # sum of rewards of each episode: 200.0 for a full CartPole-v1 one
    history.last_steps        # the notebook's own `rewards` list: each episode's last step index
    history.config.seed       # 42: the config it ran with carries its seed
"""

from dataclasses import dataclass, field


@dataclass
class TrainingHistory:
    """A DQN's training run: what it played, what it learned, what it ran with."""
    episode_rewards: list = field(default_factory=list)
    """sum of rewards of each episode"""
    episode_lengths: list = field(default_factory=list)
    """steps of each episode"""
    losses: list = field(default_factory=list)
    """the loss of every training step, in order"""
    n_steps: int = 0
    """environment steps played"""
    eval_returns: list = field(default_factory=list)
    """mean greedy return of each evaluation (the per-step agents' ``eval_every``)"""
    eval_after: list = field(default_factory=list)
    """finished episodes at each evaluation"""
    stopped_early: bool = False
    """whether an evaluation reached ``eval_stop_at`` (or a callback stopped the run)"""
    config: object = None
    """the config the run trained with, its seed in it (``None``: the loop was called
    without one)"""

    @property
    def seed(self):
        """The seed it ran at: its config's (``None`` without a config)."""
        return getattr(self.config, "seed", None)

    @property
    def last_steps(self):
        """The 0-based index of each episode's last step: what the chapter's loop appends to
        its ``rewards`` list (``rewards.append(step)``), one less than the episode's length."""
        return [length - 1 for length in self.episode_lengths]
