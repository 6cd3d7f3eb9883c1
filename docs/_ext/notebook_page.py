"""The chapter notebook as a page of the site, with its outputs when CI executed it.

``notebooks/18_reinforcement_learning.ipynb`` is committed without outputs.
``.ci/run`` executes it once, in ``tests/test_notebook.py`` (``HOML_RL_NOTEBOOK=1``), which
writes the executed copy to ``HOML_RL_NOTEBOOK_OUT``: ``.ci/run`` points that at
``docs/_build/executed/18_reinforcement_learning.ipynb``, where this extension looks. The
build never executes the notebook itself (``nb_execution_mode = "off"``).

At the start of a build it writes ``docs/_generated/notebook.ipynb``: the executed copy when
there is one whose code cells are the committed notebook's, word for word (so a page never
shows the outputs of other code), else the committed notebook; a first cell says which.
"""

import json
import os
from pathlib import Path

DOCS = Path(__file__).resolve().parents[1]
ROOT = DOCS.parent
NOTEBOOK = ROOT / "notebooks" / "18_reinforcement_learning.ipynb"
EXECUTED = DOCS / "_build" / "executed" / NOTEBOOK.name
PAGE = DOCS / "_generated" / "notebook.ipynb"


def code_sources(notebook):
    return [cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
            for cell in notebook["cells"] if cell["cell_type"] == "code"]


def has_outputs(notebook):
    return any(cell.get("outputs") for cell in notebook["cells"] if cell["cell_type"] == "code")


def page_notebook():
    """The notebook the page shows, with the note that says where its outputs come from."""
    committed = json.loads(NOTEBOOK.read_text(encoding="utf-8"))
    executed_path = Path(os.environ.get("HOML_RL_EXECUTED_NOTEBOOK", EXECUTED))
    notebook, note = committed, (
        "*This build renders the notebook without its outputs: no executed copy was found "
        "(`.ci/run` executes it in `tests/test_notebook.py` with `HOML_RL_NOTEBOOK=1` and "
        "`HOML_RL_NOTEBOOK_OUT=docs/_build/executed/18_reinforcement_learning.ipynb`, "
        "then builds the site). Run it yourself to see them: {doc}`/getting-started`.*")
    if executed_path.is_file():
        executed = json.loads(executed_path.read_text(encoding="utf-8"))
        if code_sources(executed) == code_sources(committed) and has_outputs(executed):
            notebook = executed
            note = ("*The outputs below are those of CI's execution of the committed notebook "
                    "(`tests/test_notebook.py`, `HOML_RL_NOTEBOOK=1`), which also checks the "
                    "numbers it prints against the pinned ones.*")
    cells = [{"cell_type": "markdown", "id": "homl-rl-docs-note", "metadata": {},
              "source": note}] + notebook["cells"]
    return {**notebook, "cells": cells}


def write_page(app):
    text = json.dumps(page_notebook(), indent=1, ensure_ascii=False) + "\n"
    PAGE.parent.mkdir(exist_ok=True)
    if PAGE.is_file() and PAGE.read_text(encoding="utf-8") == text:
        return  # unchanged: Sphinx need not reread it
    temporary = PAGE.with_suffix(".tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, PAGE)  # atomic


def setup(app):
    app.connect("builder-inited", write_page)
    return {"version": "1", "parallel_read_safe": True}
