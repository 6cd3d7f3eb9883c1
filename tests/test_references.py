"""Every cross-reference in homl_rl's docstrings (``:func:``, ``:class:``, ``:data:``,
``:mod:``, ``:meth:``, ``:attr:``…) and every ``homl_rl.…`` name the README and the
documentation site's pages (``docs/**/*.md``, docs/architecture.md among them) cite resolves
to something that exists."""

import ast
import builtins
import importlib
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "docs" / "_ext"))
from python_names import MISSING, candidates, lookup  # noqa: E402  (the site's name walk)

ROLE = re.compile(r":(?:func|class|data|mod|meth|attr|obj|exc):`~?([^`<>]+?)`")
CITED = re.compile(r"`~?(homl_rl(?:\.[A-Za-z_][A-Za-z_0-9]*)+)")
"""a name in backquotes, or in a MyST role ({func} then the name in backquotes, ~ first)"""
PAGES = sorted(path for path in (ROOT / "docs").rglob("*.md") if "_build" not in path.parts)
NEEDS_TF_AGENTS = ("homl_rl.tf_agents_pipeline", "homl_rl.figures.tf_agents")


def exists(dotted):
    """Whether ``dotted`` names a module, or an attribute (a dataclass field included) of one."""
    return lookup(dotted)[0] is not MISSING


def resolves(target, module, classes):
    """``target`` as Sphinx would look it up from ``module`` (inside the classes ``classes``):
    the site's own walk (``docs/_ext/python_names.py``), builtins included."""
    return (any(exists(name) for name in candidates(target, module, classes))
            or hasattr(builtins, target))


def docstring_references(path, module):
    """``(target, classes)`` for each role in a string of ``path``, with its enclosing classes."""
    found = []

    def walk(node, classes):
        for child in ast.iter_child_nodes(node):
            inner = classes + [child.name] if isinstance(child, ast.ClassDef) else classes
            if isinstance(child, ast.Constant) and isinstance(child.value, str):
                found.extend((target.strip(), classes) for target in ROLE.findall(child.value))
            walk(child, inner)

    walk(ast.parse(path.read_text()), [])
    return found


def modules():
    for path in sorted((ROOT / "homl_rl").rglob("*.py")):
        if path.name == "__main__.py":  # runs the command line when imported
            continue
        parts = path.relative_to(ROOT).with_suffix("").parts
        yield path, ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def available(module):
    if module.startswith(NEEDS_TF_AGENTS):
        return importlib.util.find_spec("tf_agents") is not None
    return True


def test_every_docstring_reference_resolves():
    unresolved = []
    for path, module in modules():
        if not available(module):
            continue
        importlib.import_module(module)
        unresolved += [f"{module}: {target}" for target, classes in docstring_references(path, module)
                       if available(target) and not resolves(target, module, classes)]
    assert unresolved == []


def test_every_homl_rl_name_the_readme_and_the_pages_cite_exists():
    cited = {path.relative_to(ROOT).as_posix(): sorted(set(CITED.findall(path.read_text())))
             for path in [ROOT / "README.md", *PAGES]}
    assert len(PAGES) > 20 and sum(map(len, cited.values())) > 100
    missing = {page: [name for name in names if available(name) and not exists(name)]
               for page, names in cited.items()}
    assert {page: names for page, names in missing.items() if names} == {}


def test_every_file_the_architecture_cites_exists():
    cited = set(re.findall(r"`((?:[a-z_]+/)*[a-z_]+\.py)`", (ROOT / "docs" / "architecture.md").read_text()))
    assert len(cited) > 30
    missing = [name for name in sorted(cited) if not (ROOT / name).exists()
               and not (ROOT / "homl_rl" / name).exists()
               and not list((ROOT / "homl_rl").rglob(name))]
    assert missing == []


def test_a_wrong_reference_is_caught():
    assert resolves("kernel_class", "homl_rl.kernels", [])
    assert resolves(".kernels.kernel_class", "homl_rl.stack", [])
    assert not resolves("kernel_klass", "homl_rl.kernels", [])
    assert not exists("homl_rl.runs.cached_call")


def homl_rl_imports(path):
    """``(line, module, name)`` of each ``from homl_rl... import name`` in ``path``, those inside
    functions included (Python resolves them only when the function runs)."""
    return [(node.lineno, node.module, alias.name) for node in ast.walk(ast.parse(path.read_text()))
            if isinstance(node, ast.ImportFrom) and node.level == 0
            and (node.module or "").startswith("homl_rl") for alias in node.names]


def test_every_import_of_homl_rl_names_what_exists():
    """A name renamed or moved is caught where a function imports it, not when a reader runs
    that function (a ``from ... import`` inside ``commands._muzero_on_ray`` once outlived its
    name)."""
    missing = []
    for folder in ("homl_rl", "benchmarks", "scripts", "examples", "tests"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            for line, module, name in homl_rl_imports(path):
                if available(module) and not exists(f"{module}.{name}"):
                    missing.append(f"{path.relative_to(ROOT)}:{line}: {module}.{name}")
    assert missing == []


def test_a_missing_imported_name_is_caught(tmp_path):
    path = tmp_path / "late.py"
    path.write_text("def f():\n    from homl_rl.muzero.training import CHECKPOINT_NAME\n")
    (line, module, name), = homl_rl_imports(path)
    assert line == 2 and not exists(f"{module}.{name}")
