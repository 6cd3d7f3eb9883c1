"""The documentation site's sources (docs/), without building it: what the pages must hold.

The build (``make docs``, strict) and the browser (tests/test_docs_browser.py) check the
built site; these quick checks run in the fast suite: every committed figure and animation
is on a page, every benchmark results file is included on the benchmarks page, the chapter's
section pages are in its table of contents in the book's order, and the README stays a
README (under 200 lines, its links to the pages resolve).
"""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
PAGES = sorted(path for path in DOCS.rglob("*.md") if "_build" not in path.parts)
MEDIA = re.compile(r"^```\{(?:figure|image|video)\} (\S+)$", re.MULTILINE)
INCLUDE = re.compile(r"^```\{include\} (\S+)$", re.MULTILINE)
BOOK_ORDER = ["gymnasium", "nn-policies", "policy-gradients", "markov", "dqn", "dqn-variants",
              "older-revision", "tf-agents", "lander", "breakout"]
"""chapter 18's sections in the book's order (the 2nd edition's TF-Agents section after the
DQN variants, then the exercises), and the older notebook revision after the variants"""


def referenced(pattern):
    """``{page: [the files its directives name, resolved]}``."""
    return {page: [(page.parent / target).resolve() for target in pattern.findall(page.read_text())]
            for page in PAGES}


def test_every_committed_figure_and_animation_is_on_a_page():
    shown = {path for paths in referenced(MEDIA).values() for path in paths}
    missing = [path for path in shown if not path.is_file()]
    assert missing == []
    committed = {path.resolve() for path in (ROOT / "figures").iterdir()
                 if path.suffix in (".png", ".gif", ".mp4")}
    assert len(committed) >= 44
    assert sorted(path.name for path in committed - shown) == []


def test_every_results_file_is_included_on_the_benchmarks_page():
    included = referenced(INCLUDE)[DOCS / "benchmarks" / "index.md"]
    assert sorted(included) == sorted(path.resolve() for path in (ROOT / "benchmarks").glob("results_*.md"))


def test_the_chapter_s_pages_are_in_the_book_s_order():
    index = (DOCS / "chapter" / "index.md").read_text()
    toctree = re.search(r"```\{toctree\}\n(?::\S+: \S+\n)*\n(.*?)```", index, re.DOTALL).group(1).split()
    assert toctree == BOOK_ORDER
    assert sorted(path.stem for path in (DOCS / "chapter").glob("*.md")) == sorted(BOOK_ORDER + ["index"])


def test_the_readme_is_short_and_its_links_resolve():
    readme = (ROOT / "README.md").read_text()
    assert len(readme.splitlines()) < 200
    links = re.findall(r"\]\(([^)#]+)\)", readme)
    assert sum(link.startswith("docs/") for link in links) >= 15
    assert [link for link in links if not (ROOT / link).exists()] == []
    # .ci/run runs the README's test command on both stacks
    assert "make test" in readme and "make PYTHON=3.12 test" in readme


def test_make_docs_is_strict_and_offline():
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"^\t.*-m sphinx -b html -W --keep-going -n ", makefile, re.MULTILINE)
    conf = (DOCS / "conf.py").read_text()
    assert re.search(r"^nitpicky = True$", conf, re.MULTILINE)
    assert "sphinx.ext.intersphinx" not in conf  # its inventories come from the network


def notebook_page(monkeypatch, tmp_path, executed):
    """What the notebook's page shows, given an executed copy (None: no copy)."""
    import importlib.util
    import json

    spec = importlib.util.spec_from_file_location("notebook_page", DOCS / "_ext" / "notebook_page.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    path = tmp_path / "executed.ipynb"
    if executed is None:
        path.unlink(missing_ok=True)
    else:
        path.write_text(json.dumps(executed))
    monkeypatch.setenv("HOML_RL_EXECUTED_NOTEBOOK", str(path))
    return module.page_notebook()


def test_the_notebook_page_shows_ci_s_outputs_only_for_the_committed_code(monkeypatch, tmp_path):
    import json

    committed = json.loads((ROOT / "notebooks" / "18_reinforcement_learning.ipynb").read_text())
    executed = json.loads(json.dumps(committed))
    code = [cell for cell in executed["cells"] if cell["cell_type"] == "code"]
    code[0]["outputs"] = [{"output_type": "stream", "name": "stdout", "text": "ran\n"}]
    page = notebook_page(monkeypatch, tmp_path, executed)
    assert "outputs below are those of CI's execution" in page["cells"][0]["source"]
    assert page["cells"][1:] == executed["cells"]
    # another notebook's outputs (its code changed since) are never shown, nor no copy at all
    code[0]["source"] = "print('other code')"
    for copy in (executed, None):
        page = notebook_page(monkeypatch, tmp_path, copy)
        assert "without its outputs" in page["cells"][0]["source"]
        assert page["cells"][1:] == committed["cells"]
