"""What the benchmark scripts share: writing a results file.

The scripts in this folder import it by name (a script's own folder is first on
``sys.path``): ``from results_file import write_results``.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from homl_rl.io import write_text  # noqa: E402


def write_results(path, lines, notes=()):
    """Write ``lines`` and, after a blank line each, the ``notes`` that are given (``None``
    or empty ones are skipped) to the Markdown file ``path`` atomically; print the text."""
    for note in notes:
        if note:
            lines = [*lines, "", note]
    text = "\n".join(lines) + "\n"
    write_text(path, text)
    print(text)
