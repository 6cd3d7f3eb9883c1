"""The animations used all through the chapter: ``update_scene``, ``plot_animation``,
``show_one_episode`` (the notebook's helpers), and saving an episode as GIF, MP4 or
self-contained HTML (jshtml).

Saved animations are downscaled (half size by default) and deterministic: the same
frames give the same bytes.
"""

import hashlib
import re
from pathlib import Path

import imageio.v2 as imageio
import matplotlib.animation
import matplotlib.pyplot as plt
import numpy as np
from PIL import Image

from homl_rl.environments import make_env
from homl_rl.io import atomic_write


def update_scene(num, frames, patch):
    """Show frame ``num`` (the notebook's ``FuncAnimation`` callback)."""
    patch.set_data(frames[num])
    return patch,


def plot_animation(frames, repeat=False, interval=40):
    """A matplotlib animation of ``frames`` (the notebook's helper)."""
    fig = plt.figure()
    patch = plt.imshow(frames[0])
    plt.axis('off')
    anim = matplotlib.animation.FuncAnimation(
        fig, update_scene, fargs=(frames, patch),
        frames=len(frames), repeat=repeat, interval=interval)
    plt.close()
    return anim


def record_episode(policy, n_max_steps=200, seed=42, env_id="CartPole-v1", env=None):
    """The loop of the notebook's ``show_one_episode``, returning what it saw.

    Seeds NumPy and resets with ``seed`` exactly as the notebook does (a stochastic
    policy such as ``pg_policy`` draws from ``np.random``). Returns ``(frames, episode)``
    where ``episode`` holds the ``actions`` and ``rewards`` played.
    """
    own_env = env is None
    env = make_env(env_id) if own_env else env
    frames, actions, rewards = [], [], []
    np.random.seed(seed)
    obs, info = env.reset(seed=seed)
    for step in range(n_max_steps):
        frames.append(env.render())
        action = policy(obs)
        if not env.action_space.contains(action):
            raise ValueError(f"the policy {getattr(policy, '__name__', policy)} returned "
                             f"{action!r}, which is not an action of {env.action_space}")
        obs, reward, done, truncated, info = env.step(action)
        actions.append(int(action))
        rewards.append(float(reward))
        if done or truncated:
            break
    if own_env:
        env.close()
    return frames, {"seed": seed, "actions": actions, "rewards": rewards,
                    "n_frames": len(frames), "total_reward": float(sum(rewards))}


def show_one_episode(policy, n_max_steps=200, seed=42, env_id="CartPole-v1"):
    """Play one episode with ``policy`` and return its animation (the notebook's helper)."""
    frames, episode = record_episode(policy, n_max_steps, seed, env_id)
    return plot_animation(frames)


def downscale(frames, scale=0.5):
    """Resize every frame by ``scale`` (box filter), keeping even sizes for video codecs."""
    height, width = np.asarray(frames[0]).shape[:2]
    size = (max(2, int(width * scale) // 2 * 2), max(2, int(height * scale) // 2 * 2))
    return [np.asarray(Image.fromarray(np.asarray(frame)).resize(size, Image.Resampling.BOX))
            for frame in frames]


def _write_gif(frames, path, interval):
    images = [Image.fromarray(frame) for frame in frames]
    images[0].save(path, format="GIF", save_all=True, append_images=images[1:],
                   duration=interval, loop=0, optimize=False)


def _write_mp4(frames, path, interval):
    imageio.mimwrite(path, frames, format="FFMPEG", fps=1000 / interval, codec="libx264",
                     macro_block_size=2, quality=7,
                     output_params=["-fflags", "+bitexact", "-flags:v", "+bitexact",
                                    "-map_metadata", "-1", "-threads", "1"])


def _write_html(frames, path, interval):
    html = plot_animation(frames, interval=interval).to_jshtml()
    # matplotlib names the player with a random uuid4; name it after the frames instead
    player_id = re.search(r"anim([0-9a-f]{32})", html).group(1)
    digest = hashlib.sha256(b"".join(np.ascontiguousarray(f).tobytes() for f in frames))
    Path(path).write_text(html.replace(player_id, digest.hexdigest()[:32]))


WRITERS = {".gif": _write_gif, ".mp4": _write_mp4, ".html": _write_html}


def save_animation(frames, path, interval=40, scale=0.5):
    """Save ``frames`` as a GIF, an MP4 or a self-contained HTML page (by ``path``'s suffix)."""
    path = Path(path)
    if path.suffix not in WRITERS:
        raise ValueError(f"unknown animation format {path.suffix!r}; use one of {', '.join(WRITERS)}")
    if len(frames) == 0:
        raise ValueError("no frames to save")
    frames = downscale(frames, scale) if scale != 1 else [np.asarray(f) for f in frames]
    return atomic_write(path, lambda tmp: WRITERS[path.suffix](frames, tmp, interval))
