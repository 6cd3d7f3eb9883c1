"""Loading a reader's ``.py`` file or ``.ipynb`` notebook: its definitions, in order, not run.

IPython magics and shell lines are dropped; of the top-level statements only imports,
function and class definitions and simple assignments (literals, names, attributes; no
calls) are kept. Training loops, plots and calls are skipped and listed; one-line
assignments are also kept as :class:`Snippet` s (the dueling cell's formula lines, which
a check runs on given inputs).
"""

import ast
import json
from dataclasses import dataclass, field
from pathlib import Path


class UsageError(Exception):
    """A bad PATH or a file with nothing to check: exit code 2."""


@dataclass
class Definition:
    """A name the reader's code defines at top level: a function, a class or a simple value."""
    name: str
    stmt: tuple  # (cell index, line number): the worker's id for it
    kind: str  # "def", "class" or "value"
    where: str
    params: tuple = ()
    names_used: frozenset = frozenset()


@dataclass
class Snippet:
    """A top-level assignment that was not run (e.g. the dueling cell's ``Q_values = ...``)."""
    name: str
    source: str
    where: str
    names_used: frozenset


@dataclass
class LoadedSource:
    """A reader's file as the worker loads it, and what the loader kept and skipped."""
    path: str
    cells: list  # [(filename, source, kept line numbers)]
    definitions: list
    skipped: list  # one line each: "file, line N: for loop"
    snippets: list = field(default_factory=list)  # skipped one-line assignments (dueling model)

    def versions(self, name):
        """Every definition of ``name``, in the file's order (notebooks redefine names)."""
        return [d for d in self.definitions if d.name == name]


_KEPT_EXPRESSIONS = (ast.Constant, ast.Name, ast.Attribute, ast.List, ast.Tuple, ast.Set,
                     ast.Dict, ast.UnaryOp, ast.BinOp, ast.Load, ast.unaryop, ast.operator,
                     ast.expr_context)


def _is_simple(expression):
    return all(isinstance(node, _KEPT_EXPRESSIONS) for node in ast.walk(expression))


def _describe(stmt):
    kinds = {ast.For: "for loop", ast.While: "while loop", ast.If: "if statement",
             ast.With: "with statement", ast.Try: "try statement", ast.Assert: "assert",
             ast.AugAssign: "augmented assignment", ast.Delete: "del"}
    for kind, text in kinds.items():
        if isinstance(stmt, kind):
            return text
    if isinstance(stmt, ast.Expr):
        if isinstance(stmt.value, ast.Call):
            return f"call {ast.unparse(stmt.value.func)}()"
        return "expression"
    if isinstance(stmt, (ast.Assign, ast.AnnAssign)):
        targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
        return f"assignment {', '.join(ast.unparse(t) for t in targets)} = <not a literal>"
    return type(stmt).__name__.lower()


def strip_magics(source):
    """Drop IPython magics (``%pip``, ``%%time``) and shell lines (``!apt``), keep the line count."""
    lines = []
    for line in source.splitlines():
        stripped = line.lstrip()
        lines.append("" if stripped.startswith(("%", "!")) else line)
    return "\n".join(lines) + "\n"


def read_cells(path):
    """The code cells of ``path``: ``[(filename, source)]`` (one cell for a ``.py`` file)."""
    path = Path(path)
    if not path.is_file():
        raise UsageError(f"no such file: {path}")
    if path.suffix == ".ipynb":
        try:
            notebook = json.loads(path.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError) as error:
            raise UsageError(f"{path} is not a Jupyter notebook (JSON): {error}") from None
        cells = []
        for index, cell in enumerate(notebook.get("cells", [])):
            if cell.get("cell_type") == "code":
                source = cell.get("source", "")
                source = "".join(source) if isinstance(source, list) else source
                cells.append((f"{path.name} [cell {index}]", strip_magics(source)))
        return cells
    if path.suffix != ".py":
        raise UsageError(f"{path} is neither a .py file nor an .ipynb notebook")
    try:
        source = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise UsageError(f"{path} is not a text file") from None
    return [(path.name, source)]


def load_source(path):
    """Parse the reader's code; keep imports, definitions and simple assignments."""
    cells, definitions, skipped, snippets = [], [], [], []
    raw_cells = read_cells(path)
    single_file = len(raw_cells) == 1 and str(path).endswith(".py")
    for cell_index, (filename, source) in enumerate(raw_cells):
        try:
            tree = ast.parse(source, filename)
        except SyntaxError as error:
            if single_file:
                raise UsageError(f"{path} is not valid Python: {error}") from None
            skipped.append(f"{filename}: the whole cell (syntax error: {error.msg}, line {error.lineno})")
            cells.append((filename, "", []))  # keeps the cell indices of the worker's ids
            continue
        kept = []
        for stmt in tree.body:
            where = f"{filename}, line {stmt.lineno}"
            stmt_id = (cell_index, stmt.lineno)
            if isinstance(stmt, (ast.Import, ast.ImportFrom)):
                kept.append(stmt.lineno)
            elif isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                kept.append(stmt.lineno)
                is_class = isinstance(stmt, ast.ClassDef)
                params = () if is_class else tuple(a.arg for a in stmt.args.args)
                used = frozenset(node.id for node in ast.walk(stmt) if isinstance(node, ast.Name))
                used |= {node.attr for node in ast.walk(stmt) if isinstance(node, ast.Attribute)}
                definitions.append(Definition(stmt.name, stmt_id, "class" if is_class else "def",
                                              where, params, frozenset(used)))
            elif (isinstance(stmt, (ast.Assign, ast.AnnAssign)) and stmt.value is not None
                  and _is_simple(stmt.value)):
                kept.append(stmt.lineno)
                targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
                for target in targets:
                    if isinstance(target, ast.Name):
                        definitions.append(Definition(target.id, stmt_id, "value", where))
            elif not (isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant)
                      and isinstance(stmt.value.value, str)):  # a docstring is not code
                skipped.append(f"{where}: {_describe(stmt)}")
            if (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1
                    and isinstance(stmt.targets[0], ast.Name)):
                used = frozenset(n.id for n in ast.walk(stmt.value) if isinstance(n, ast.Name))
                snippets.append(Snippet(stmt.targets[0].id, ast.unparse(stmt), where, used))
        cells.append((filename, source, kept))
    return LoadedSource(str(path), cells, definitions, skipped, snippets)
