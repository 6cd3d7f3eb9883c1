"""Mutated copies of our own code: the known mistakes that hints name, made from the book's code.

A hint tells a reader what they got wrong when their output equals the output of a
known mistake. Rather than keep a second, hand-written copy of the book's code with the
mistake typed in, the cross-check takes the source of our function, replaces one
expression (``1.0 - (dones | truncateds)`` by ``1.0 - dones``, say) and runs that copy.
The book's modules carry no hooks for this. A replacement that matches nothing raises
:class:`LookupError`, so a change to the book's code that loses a mistake fails a test
instead of silently losing its hint.
"""

import ast
import inspect
import textwrap


class _Replace(ast.NodeTransformer):
    """Replace each expression equal to ``old`` (as parsed, whatever its spacing) by ``new``."""

    def __init__(self, old, new):
        self.old = ast.dump(ast.parse(old, mode="eval").body)
        self.new = new
        self.count = 0

    def visit(self, node):
        if isinstance(node, ast.expr) and ast.dump(node) == self.old:
            self.count += 1
            return ast.parse(self.new, mode="eval").body
        return super().visit(node)


def _replaced(tree, replacements, what):
    for old, new in replacements:
        replace = _Replace(old, new)
        tree = replace.visit(tree)
        if not replace.count:
            raise LookupError(f"{what} has no `{old}` to replace by `{new}`")
    return ast.fix_missing_locations(tree)


def mutated_source(function, *replacements):
    """The source of ``function`` (dedented) with each ``(old, new)`` expression replaced."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(function)))
    return ast.unparse(_replaced(tree, replacements, function.__qualname__))


def mutated(function, *replacements, names=None):
    """A copy of ``function`` with each ``(old, new)`` expression of its source replaced.

    The copy runs in ``function``'s module globals (with ``names``: in a copy of them to
    which ``names`` are added, e.g. a mutated function that the copy calls instead of the
    original), and its tracebacks point at the original's file and lines. (A method calling
    ``super()`` without arguments cannot be copied this way: the copy has no class cell.)
    """
    source = textwrap.dedent(inspect.getsource(function))
    tree = _replaced(ast.parse(source), replacements, function.__qualname__)
    ast.increment_lineno(tree, function.__code__.co_firstlineno - 1)
    namespace = {}
    module_globals = function.__globals__ if names is None else dict(function.__globals__, **names)
    exec(compile(tree, inspect.getsourcefile(function), "exec"), module_globals, namespace)
    copy = namespace[function.__name__]
    copy.__qualname__ = f"{function.__qualname__}, mutated"
    return copy


def mutated_class(cls, method, *replacements):
    """A subclass of ``cls`` whose ``method`` is a :func:`mutated` copy of the one it inherits."""
    return type(f"Mutated{cls.__name__}", (cls,),
                {method: mutated(getattr(cls, method), *replacements), "__module__": __name__})


def assignments(function, names, *replacements):
    """The source of ``function``'s top-level assignments to ``names``, in order, mutated.

    For lines that live inside a builder (the dueling network's formula lines), run on
    given inputs: ``exec`` the returned code in a namespace holding the names they read.
    """
    tree = ast.parse(textwrap.dedent(inspect.getsource(function)))
    body = tree.body[0].body
    kept = [stmt for stmt in body if isinstance(stmt, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id in names for t in stmt.targets)]
    found = {t.id for stmt in kept for t in stmt.targets}
    if found != set(names):
        raise LookupError(f"{function.__qualname__} assigns no {', '.join(sorted(set(names) - found))}")
    module = _replaced(ast.Module(body=kept, type_ignores=[]), replacements, function.__qualname__)
    return ast.unparse(module)
