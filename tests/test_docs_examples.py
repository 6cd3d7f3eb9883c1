"""The examples on the documentation site's pages run, and print what the pages say.

Every ``pycon`` code block of ``docs/**/*.md`` (the ``>>>`` sessions that show the
numbers a section prints: ``episode_statistics(...)``, ``discount_rewards(...)``,
``q_value_iteration(...)``...) runs here as a doctest, the blocks of one page in order in
one namespace, so a page cannot drift from the code. Each page says next to its block
where the numbers are pinned; these tests check that the page shows them.
"""

import doctest
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
BLOCK = re.compile(r"^```pycon\n(.*?)^```$", re.MULTILINE | re.DOTALL)
PAGES = sorted(path for path in DOCS.rglob("*.md") if "_build" not in path.parts
               and BLOCK.search(path.read_text(encoding="utf-8")))


def examples(text):
    """The page's ``pycon`` blocks, every other line blanked (doctest's line numbers hold)."""
    kept = [" " * len(line) if not line.isspace() else line for line in text.splitlines(True)]
    lines = ["\n"] * len(kept)
    for match in BLOCK.finditer(text):
        first = text.count("\n", 0, match.start(1))
        for i, line in enumerate(match.group(1).splitlines(True)):
            lines[first + i] = line
    return "".join(lines)


def test_the_pages_with_examples_are_the_ones_that_print_numbers():
    names = {path.relative_to(DOCS).as_posix() for path in PAGES}
    assert {"chapter/gymnasium.md", "chapter/policy-gradients.md", "chapter/markov.md"} <= names


def test_a_wrong_printout_fails():
    text = "```pycon\n>>> 1 + 1\n3\n```\n"
    test = doctest.DocTestParser().get_doctest(examples(text), {}, "wrong", "wrong.md", 0)
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    runner.run(test, out=lambda _: None)
    assert runner.failures == 1 and runner.tries == 1


@pytest.mark.parametrize("page", PAGES, ids=lambda path: path.relative_to(DOCS).as_posix())
def test_the_page_s_examples_print_what_it_shows(page):
    test = doctest.DocTestParser().get_doctest(
        examples(page.read_text(encoding="utf-8")), {}, page.stem, str(page), 0)
    assert test.examples, f"{page}: no example found"
    report = []
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    runner.run(test, out=report.append)
    assert runner.failures == 0, "".join(report)
