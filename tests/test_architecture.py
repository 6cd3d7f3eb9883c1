"""The house's import structure: no circle among homl_rl's modules, counting the imports made
inside functions, and none from a lower floor to a higher one (docs/architecture.md)."""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "homl_rl"

FLOORS = [  # docs/architecture.md's layers, lowest first: a module or package, by prefix
    ("foundations", ["homl_rl", "homl_rl.io", "homl_rl.checks", "homl_rl.keras_choices",
                     "homl_rl.tf_setup", "homl_rl.quiet", "homl_rl.seeding", "homl_rl.progress",
                     "homl_rl.plotting", "homl_rl.stack", "homl_rl.kernels", "homl_rl.paths",
                     "homl_rl.checkpoints", "homl_rl.summaries", "homl_rl.ray_setup",
                     "homl_rl.run_cache"]),
    ("engines", ["homl_rl.engines"]),
    ("sections", ["homl_rl.environments", "homl_rl.animation", "homl_rl.nn_policy",
                  "homl_rl.policy_gradients", "homl_rl.markov", "homl_rl.replay_buffers", "homl_rl.variants",
                  "homl_rl.dqn", "homl_rl.per_step_dqn", "homl_rl.keras_rl", "homl_rl.lecture_dqn",
                  "homl_rl.atari", "homl_rl.breakout", "homl_rl.bandits", "homl_rl.muzero",
                  "homl_rl.tf_agents_pipeline"]),
    ("experiments", ["homl_rl.experiments"]),
    ("runs", ["homl_rl.runs"]),
    ("figures", ["homl_rl.figures"]),
    ("cross-check", ["homl_rl.crosscheck"]),
    ("command line", ["homl_rl.cli", "homl_rl.commands", "homl_rl.__main__"]),
]


def module_name(path):
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def modules():
    return {module_name(path): path for path in sorted(PACKAGE.rglob("*.py"))}


def imports_of(path, known):
    """The homl_rl modules ``path`` imports, anywhere in it (a function's body included, and
    ``importlib.import_module`` of a name written out):
    ``from homl_rl.a import b`` is ``homl_rl.a.b`` where that is a module, else ``homl_rl.a``.
    (A package's own ``__init__``, which Python runs before any of its modules, is not
    counted as imported by them: it may gather its modules' names.)"""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name in known)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module in known:
            found.update(f"{node.module}.{alias.name}" if f"{node.module}.{alias.name}" in known
                         else node.module for alias in node.names)
        elif (isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", None))
              == "import_module" and node.args and isinstance(node.args[0], ast.Constant)
              and node.args[0].value in known):  # importlib.import_module("homl_rl.x")
            found.add(node.args[0].value)
    return found


def import_graph():
    known = modules()
    return {name: imports_of(path, known) - {name} for name, path in known.items()}


def circles(graph):
    """The strongly connected components of more than one module (Tarjan)."""
    index, low, stack, on_stack, found, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in graph:
        if v not in index:
            visit(v)
    return found


def test_the_circle_finder_finds_a_circle():
    assert circles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert circles({"a": {"b"}, "b": set()}) == []


def test_no_import_circle_in_homl_rl_counting_imports_inside_functions():
    assert circles(import_graph()) == []


def floor_of(module):
    """The index in :data:`FLOORS` of ``module``'s floor (its longest matching prefix)."""
    matches = [(len(prefix), index) for index, (_, prefixes) in enumerate(FLOORS)
               for prefix in prefixes if module == prefix or module.startswith(prefix + ".")]
    assert matches, f"{module} is on no floor: add it to FLOORS and docs/architecture.md"
    return max(matches)[1]


def test_every_module_has_a_floor_and_imports_none_above_its_own():
    graph = import_graph()
    upward = [f"{module} ({FLOORS[floor_of(module)][0]}) imports {imported} "
              f"({FLOORS[floor_of(imported)][0]})"
              for module, imported_modules in sorted(graph.items())
              for imported in sorted(imported_modules) if floor_of(imported) > floor_of(module)]
    assert upward == []


def test_an_upward_import_would_be_caught():
    assert floor_of("homl_rl.engines.policy_gradients") < floor_of("homl_rl.nn_policy")
    assert floor_of("homl_rl.experiments.compare") > floor_of("homl_rl.tf_agents_pipeline")
