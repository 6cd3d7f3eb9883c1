"""Lines of the book that a newer library rejects: a set-up note with the fix, not the reader's mistake.

A reader who typed the book's code exactly can still get an error on the current stack: the
book's ``play_one_step`` calls ``env.step(int(action))`` with ``action`` a 1×1 array, which
NumPy 2.5 no longer converts to a Python scalar. Such a row is not a mistake of the
reader's: the report says so above the table, as a set-up note naming the call, the
library version that changed it and the one-line fix (:func:`setup_note`).

:data:`BREAKAGES` is the table, one :class:`Breakage` a row. A row is recognised from what
was raised, never from a check's name: the exception's type and message, and the book's
call in the line of the reader's code that raised it (:func:`matching_breakage`).
"""

import ast
import importlib.metadata
from typing import NamedTuple


class Breakage(NamedTuple):
    """A call of the book's code that a library version made raise, and its one-line fix."""
    call: str
    """the book's call, as it appears (as parsed, whatever its spacing) in the reader's line"""
    exception: str
    """the name of the exception's type"""
    message: str
    """the exception's message, exactly"""
    library: str
    """the distribution whose version changed it (``numpy``)"""
    changed_in: str
    """the first version of ``library`` where the call raises"""
    change: str
    """what that version changed, in one sentence"""
    fix: str
    """the book's call, written so that it runs on every stack"""


BREAKAGES = [
    Breakage(
        call="env.step(int(action))",
        exception="TypeError",
        message="only 0-dimensional arrays can be converted to Python scalars",
        library="numpy",
        # measured: NumPy 1.26.4 converts with a DeprecationWarning ("Conversion of an array
        # with ndim > 0 to a scalar is deprecated ... (Deprecated NumPy 1.25.)", also in the
        # 1.25.0 release notes); NumPy 2.5.5 raises. The 2.5.0 release notes do not list
        # this expiry, and no 2.0-2.4 was measured: 2.5 is the version measured here.
        changed_in="2.5 (the version measured here)",
        change=("converting an array of more than 0 dimensions to a Python scalar (deprecated "
                "since NumPy 1.25) raises, and the book's `action` is a 1×1 array"),
        fix="env.step(int(action[0, 0]))"),
]
"""the known lines of the book that a library version breaks, in the chapter's order"""


def _contains_call(line, call):
    """Whether the code ``line`` holds the expression ``call`` (compared as parsed)."""
    try:
        tree = ast.parse(line.strip())
    except SyntaxError:  # one line of a statement that spans several
        return False
    wanted = ast.dump(ast.parse(call, mode="eval").body)
    return any(isinstance(node, ast.expr) and ast.dump(node) == wanted for node in ast.walk(tree))


def matching_breakage(raised):
    """``(breakage, where)``: the :class:`Breakage` that ``raised`` is and the line it names, or ``None``.

    ``raised``: what the worker says was raised, ``{"type", "message", "frames"}`` (the
    exception's type name and message, and ``(where, source line)`` for each frame of its
    traceback, ``where`` as ``"file, line N, in function"``).
    """
    if not raised:
        return None
    for breakage in BREAKAGES:
        if raised["type"] != breakage.exception or raised["message"] != breakage.message:
            continue
        for where, line in raised["frames"]:
            if _contains_call(line, breakage.call):
                return breakage, where
    return None


def _installed(library):
    try:
        return importlib.metadata.version(library)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def setup_note(breakage, where=""):
    """What the report says above the table: the call, the version that changed it, the fix."""
    name = {"numpy": "NumPy"}.get(breakage.library, breakage.library)
    at = f" ({where})" if where else ""
    return (f"the book's `{breakage.call}`{at} raises {breakage.exception} on {name} "
            f"{_installed(breakage.library)}, installed here: since {name} {breakage.changed_in}, "
            f"{breakage.change}. Not your mistake; on this stack write `{breakage.fix}`")
