"""Animations of "Neural Network Policies": the policy net before and after imitation."""

import functools

from homl_rl.figures.environments import episode_animation
from homl_rl.nn_policy import CARTPOLE_OBS_SHAPE, pg_policy, policy_net


def untrained_policy_net_animation():
    """The notebook's ``np.random.seed(42); show_one_episode(pg_policy)`` before training."""
    model = policy_net(42)
    model.build((None,) + CARTPOLE_OBS_SHAPE)
    return episode_animation(functools.partial(pg_policy, model=model), seed=42)


def imitation_policy_net_animation(imitation):
    """The 2nd edition's ``render_policy_net(model)`` after the 50-environment imitation cell."""
    model, history = imitation.result
    frames, data = episode_animation(functools.partial(pg_policy, model=model), seed=42)
    data["training"] = {"n_environments": imitation.config["n_environments"],
                        "n_iterations": len(history["loss"]), "final_loss": history["loss"][-1],
                        "basic_policy_agreement": history["agreement"]}
    return frames, data
