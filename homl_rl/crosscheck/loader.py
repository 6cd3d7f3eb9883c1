"""Loading a reader's code: a ``.py`` file, an ``.ipynb`` notebook or a kernel's cells, not run.

IPython magics and shell lines are dropped (an indented one, under an ``if``, becomes
``pass``); in a kernel's history, where IPython has already turned them into
``get_ipython().run_line_magic(...)`` calls, they are skipped like any call, and a
``%%time`` or ``%%capture`` cell is its body. Of the top-level statements only imports,
function and class definitions and simple assignments (literals, names, attributes; no
calls) are kept. Training loops, plots and calls are skipped and listed; one-line
assignments are also kept as :class:`Snippet` s (the dueling cell's formula lines, which
a check runs on given inputs).

Readers' set-up code is not run either: assignments to ``os.environ`` (the book's
notebook sets ``TF_USE_LEGACY_KERAS``; the worker sets up TensorFlow its own way) are
skipped as set-up, and imports of set-up modules (:data:`SETUP_MODULES`) are marked so
that the worker replaces one that is missing by a stub instead of failing the load.
"""

import ast
import json
from dataclasses import dataclass, field
from pathlib import Path


SETUP_MODULES = ("google.colab", "tf_keras")
"""modules a reader's set-up imports that may be missing here (Colab's own modules; Keras 2
for TensorFlow >= 2.16): a missing one is stubbed, with a note, not a failed load"""

CELL_MAGICS_WITH_CODE = ("time", "timeit", "capture", "prun")
"""cell magics whose cell is ordinary Python that the kernel runs (``%%time`` ...)"""


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
    setup_imports: list = field(default_factory=list)  # [(cell index, lineno)] of set-up imports

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
    if _is_setup(stmt):
        return f"set-up, not run: {ast.unparse(stmt).splitlines()[0]}"
    if isinstance(stmt, ast.Expr):
        if isinstance(stmt.value, ast.Call):
            return f"call {ast.unparse(stmt.value.func)}()"
        return "expression"
    if isinstance(stmt, (ast.Assign, ast.AnnAssign)):
        targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
        return f"assignment {', '.join(ast.unparse(t) for t in targets)} = <not a literal>"
    return type(stmt).__name__.lower()


def _is_setup(stmt):
    """An assignment to ``os.environ[...]``, or an IPython magic as the kernel parsed it."""
    if isinstance(stmt, ast.Assign):
        return any(isinstance(t, ast.Subscript) and ast.unparse(t.value) in ("os.environ", "environ")
                   for t in stmt.targets)
    if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call):
        return ast.unparse(stmt.value.func).startswith("get_ipython().")
    return False


def _is_setup_import(stmt):
    if isinstance(stmt, ast.Import):
        modules = [alias.name for alias in stmt.names]
    elif isinstance(stmt, ast.ImportFrom):
        modules = [stmt.module or ""]
    else:
        return False
    return any(m == s or m.startswith(s + ".") for m in modules for s in SETUP_MODULES)


def strip_magics(source):
    """Drop IPython magics (``%pip``, ``%%time``) and shell lines (``!apt``), keep the line count.

    An indented one (``if "google.colab" in sys.modules:`` then ``%pip install ...``)
    becomes ``pass``, so that the block it was alone in still parses.
    """
    lines = []
    for line in source.splitlines():
        stripped = line.lstrip()
        if stripped.startswith(("%", "!")):
            indent = line[:len(line) - len(stripped)]
            line = f"{indent}pass" if indent else ""
        lines.append(line)
    return "\n".join(lines) + "\n"


def unwrap_cell_magic(source):
    """A kernel-parsed ``%%time`` (``get_ipython().run_cell_magic('time', '', body)``): its body."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return source
    if (len(tree.body) == 1 and isinstance(tree.body[0], ast.Expr)
            and isinstance(tree.body[0].value, ast.Call)
            and ast.unparse(tree.body[0].value.func) == "get_ipython().run_cell_magic"):
        args = tree.body[0].value.args
        if (len(args) == 3 and all(isinstance(a, ast.Constant) for a in args)
                and args[0].value in CELL_MAGICS_WITH_CODE):
            return unwrap_cell_magic(args[2].value)
    return source


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
        return [(f"{path.name} [cell {index}]", strip_magics(source))
                for index, source in _code_cells(notebook, path)]
    if path.suffix != ".py":
        raise UsageError(f"{path} is neither a .py file nor an .ipynb notebook")
    try:
        source = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise UsageError(f"{path} is not a text file") from None
    return [(path.name, source)]


def _code_cells(notebook, path):
    """``[(index, source)]`` of the notebook's code cells; a :class:`UsageError` if it is not one.

    A notebook is a JSON object whose ``cells`` is a list of objects; a code cell's
    ``source`` is a string or a list of strings (nbformat 4).
    """
    def bad(what):
        return UsageError(f"{path} is not a Jupyter notebook: {what}")

    if not isinstance(notebook, dict):
        raise bad(f"its JSON is {_json_kind(notebook)}, not an object with \"cells\"")
    cells = notebook.get("cells", [])
    if not isinstance(cells, list):
        raise bad(f"\"cells\" is {_json_kind(cells)}, not a list of cells")
    code = []
    for index, cell in enumerate(cells):
        if not isinstance(cell, dict):
            raise bad(f"cell {index} is {_json_kind(cell)}, not an object")
        if cell.get("cell_type") != "code":
            continue
        source = cell.get("source", "")
        if isinstance(source, list) and all(isinstance(line, str) for line in source):
            source = "".join(source)
        if not isinstance(source, str):
            kind = _json_kind(source)
            if isinstance(source, list):
                kind += f" holding {_json_kind(next(x for x in source if not isinstance(x, str)))}"
            raise bad(f"the source of cell {index} is {kind}, not a string or a list of strings")
        code.append((index, source))
    return code


def _json_kind(value):
    """What a JSON value is, as an error says it: ``an integer (5)``, ``a list``."""
    kinds = [(bool, "a boolean"), (int, "an integer"), (float, "a number"), (str, "a string"),
             (list, "a list"), (dict, "an object"), (type(None), "null")]
    kind = next(text for python_type, text in kinds if isinstance(value, python_type))
    return f"{kind} ({json.dumps(value)})" if isinstance(value, (bool, int, float)) else kind


def load_source(path):
    """Parse the reader's file; keep imports, definitions and simple assignments."""
    raw_cells = read_cells(path)
    return load_cells(raw_cells, str(path), single_file=len(raw_cells) == 1 and str(path).endswith(".py"))


def from_cells(sources, name="the notebook's cells"):
    """Load a kernel's input history: ``sources`` as IPython parsed them, in execution order.

    Each source is one executed cell (``In[n]``); a later definition of a name replaces an
    earlier one, as in the kernel.
    """
    raw_cells = [(f"In [{index}]", unwrap_cell_magic(source))
                 for index, source in enumerate(sources) if source and source.strip()]
    return load_cells(raw_cells, name)


def load_cells(raw_cells, path, single_file=False):
    """Parse ``raw_cells`` (``[(filename, source)]``); keep imports, definitions, simple assignments."""
    cells, definitions, skipped, snippets, setup_imports = [], [], [], [], []
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
                if _is_setup_import(stmt):
                    setup_imports.append(stmt_id)
            elif _is_setup(stmt):
                skipped.append(f"{where}: {_describe(stmt)}")
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
    return LoadedSource(str(path), cells, definitions, skipped, snippets, setup_imports)
