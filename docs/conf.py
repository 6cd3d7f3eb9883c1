"""Sphinx configuration of homl_rl's documentation site (``make docs``).

Sphinx with MyST: the pages are Markdown (``docs/**/*.md``); the API reference is generated
from the docstrings, whose reST roles (``:func:``, ``:class:``, ``:data:``...) Sphinx resolves.
Strict: ``make docs`` runs with ``-W --keep-going -n`` (nitpicky), so a reference that does
not resolve, a broken internal link or a missing image fails the build. Offline: no
intersphinx (its inventories would be fetched from the network); the few names that
belong to other libraries are ignored by ``nitpick_ignore_regex`` below, by module.
"""

import importlib.util
import json
import os
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(ROOT))  # this checkout's homl_rl, before any installed one
sys.path.insert(0, str(DOCS / "_ext"))

os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import types  # noqa: E402

import homl_rl  # noqa: E402

# ``python -m homl_rl`` runs the command line when its module is imported: the API reference
# documents homl_rl.cli instead, and autosummary's walk of the package finds this in its place.
sys.modules.setdefault("homl_rl.__main__", types.ModuleType(
    "homl_rl.__main__", "``python -m homl_rl``: the command line, :mod:`homl_rl.cli`."))

project = "homl_rl"
author = "homl_rl's authors"
copyright = "homl_rl's authors, Apache-2.0"
release = version = homl_rl.__version__

extensions = [
    "myst_nb",  # MyST Markdown pages and the chapter notebook (myst_parser included)
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "media",  # docs/_ext/media.py: the {video} directive (MP4 in a <video> element)
    "resolve_names",  # docs/_ext/resolve_names.py: short names imported from another module
    "notebook_page",  # docs/_ext/notebook_page.py: the chapter notebook, executed if CI ran it
]

source_suffix = {".rst": "restructuredtext", ".md": "myst-nb", ".ipynb": "myst-nb"}
root_doc = "index"
exclude_patterns = ["_build", "_ext", "**/.ipynb_checkpoints"]
suppress_warnings = []

# --- strictness ---------------------------------------------------------------------------
nitpicky = True
# Names of other libraries, which an offline build cannot link (no intersphinx): base
# classes (``gym.Wrapper``), types in signatures. Only whole foreign modules are ignored,
# so a wrong ``homl_rl`` name still fails the build.
FOREIGN = (r"(?:np|numpy|tf|tensorflow|keras|tf_keras|gym|gymnasium|matplotlib|plt|PIL|ray|"
           r"tf_agents|reverb|imageio|tqdm|ale_py|cv2|IPython|pytest|argparse|collections|"
           r"concurrent|dataclasses|enum|json|multiprocessing|os|pathlib|random|subprocess|"
           r"threading|types|typing|abc|contextlib|queue|io|signal|ast)")
nitpick_ignore_regex = [
    (r"py:.*", FOREIGN + r"(?:\..*)?"),
    # built-in and standard-library names without a module (Python's own inventory is not fetched)
    (r"py:.*", r"(?:int|float|str|bool|bytes|dict|list|tuple|set|frozenset|object|type|None|"
               r"callable|Callable|Path|Exception|ValueError|TypeError|RuntimeError|KeyError|"
               r"SystemExit|KeyboardInterrupt|TimeoutError|OSError|Iterable|Iterator|Sequence|"
               r"Mapping|Any|Optional|Union|NamedTuple|Enum|IntEnum)"),
]

# --- API reference ------------------------------------------------------------------------
autosummary_generate = True
autosummary_imported_members = False
autodoc_default_options = {"members": True, "undoc-members": True,
                           "ignore-module-all": True, "show-inheritance": True, "member-order": "bysource"}
autodoc_typehints = "signature"
# A method without a docstring of its own shows none: a docstring inherited from Gymnasium's
# or Keras' classes names their objects, which this site does not document.
autodoc_inherit_docstrings = False
autodoc_preserve_defaults = True
# TF-Agents (and Reverb) exist on the reference stack only (TensorFlow 2.15); the site is
# built on the current stack, so homl_rl.tf_agents_pipeline's imports of them are mocked.
autodoc_mock_imports = [name for name in ("tf_agents", "reverb")
                        if importlib.util.find_spec(name) is None]

# --- MyST ---------------------------------------------------------------------------------
myst_enable_extensions = ["colon_fence", "deflist", "attrs_inline"]
myst_heading_anchors = 3
nb_execution_mode = "off"  # never executed here: CI's execution is reused (notebook_page)
nb_merge_streams = True
# stderr is the machine's (library warnings naming the venv's paths), not the chapter's
nb_output_stderr = "remove"

# --- HTML ---------------------------------------------------------------------------------
html_theme = "furo"
html_title = f"homl_rl {release}"
html_static_path = ["_static"]
html_favicon = "_static/favicon.svg"  # without one the browser asks for /favicon.ico: a 404 in its console
html_last_updated_fmt = None
html_copy_source = False
html_show_sourcelink = False
templates_path = ["_templates"]  # _templates/autosummary/module.rst: no page for __main__
