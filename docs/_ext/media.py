"""The ``{video}`` directive: an MP4 of ``figures/`` in a ``<video>`` element that plays.

Sphinx's ``image`` directive takes PNG and GIF (which play as they are), not MP4. This one
takes the path of a video relative to the page, as ``image`` does, fails the build (a
warning, and ``make docs`` turns warnings into errors) when the file does not exist,
and copies the file into the site's ``_videos/`` folder: the video is never copied in git.

    ```{video} ../../figures/tf_agents_trained_agent.mp4
    :alt: the trained agent
    ```
"""

import posixpath
import shutil
from pathlib import Path

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

logger = logging.getLogger(__name__)


class video(nodes.General, nodes.Element):
    """A video: ``source`` (its file), ``name`` (its name in ``_videos/``), ``alt``."""


class Video(SphinxDirective):
    required_arguments = 1
    option_spec = {"alt": directives.unchanged, "width": directives.unchanged}

    def run(self):
        relative, source = self.env.relfn2path(self.arguments[0], self.env.docname)
        path = Path(source)
        if not path.is_file():
            logger.warning("video file not found: %s", self.arguments[0],
                           location=self.get_location())
            return []
        self.env.note_dependency(source)
        videos = self.env.domaindata.setdefault("media", {"videos": {}})["videos"]
        videos[path.name] = str(path)
        return [video(source=str(path), name=path.name, alt=self.options.get("alt", path.stem),
                      width=self.options.get("width", "100%"), docname=self.env.docname)]


def visit_video_html(translator, node):
    src = posixpath.relpath(f"_videos/{node['name']}", posixpath.dirname(node["docname"]) or ".")
    translator.body.append(
        f'<video class="homl-video" controls autoplay loop muted playsinline preload="auto" '
        f'style="max-width: {node["width"]}" aria-label="{node["alt"]}">'
        f'<source src="{src}" type="video/mp4">{node["alt"]}</video>')
    raise nodes.SkipNode


def copy_videos(app, exception):
    if exception is not None or app.builder.format != "html":
        return
    videos = app.env.domaindata.get("media", {"videos": {}})["videos"]
    out = Path(app.outdir) / "_videos"
    out.mkdir(exist_ok=True)
    for name, source in sorted(videos.items()):
        shutil.copyfile(source, out / name)


def merge_videos(app, env, docnames, other):
    env.domaindata.setdefault("media", {"videos": {}})["videos"].update(
        other.domaindata.get("media", {"videos": {}})["videos"])


def setup(app):
    app.add_node(video, html=(visit_video_html, None))
    app.add_directive("video", Video)
    app.connect("build-finished", copy_videos)
    app.connect("env-merge-info", merge_videos)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
