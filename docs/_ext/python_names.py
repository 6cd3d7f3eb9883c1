"""Python names as Python resolves them: the walk that the site's reference handler
(``resolve_names.py``) and ``tests/test_references.py`` share. Plain Python, no Sphinx: the
tests import it without the documentation's packages."""

import importlib
import sys

MISSING = object()


def step(obj, part):
    if hasattr(obj, part):
        return getattr(obj, part)
    fields = getattr(obj, "__dataclass_fields__", {})
    return fields[part] if part in fields else MISSING


def canonical(obj, fallback):
    """Where ``obj`` is defined: ``module.qualname`` for a class or function of homl_rl."""
    module, qualname = getattr(obj, "__module__", None), getattr(obj, "__qualname__", None)
    if isinstance(module, str) and isinstance(qualname, str) and module.startswith("homl_rl") \
            and "<locals>" not in qualname and (callable(obj) or isinstance(obj, type)):
        return f"{module}.{qualname}"
    if type(obj).__name__ == "module":
        return obj.__name__
    return fallback


def lookup(dotted):
    """``(object, names)`` for ``dotted``: the names it may be documented under, best first."""
    parts = dotted.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        names = [".".join(parts[:i])]
        for part in parts[i:]:
            parent = obj
            obj = step(obj, part)
            if obj is MISSING:
                return MISSING, []
            written = f"{names[0]}.{part}"
            names = [canonical(obj, f"{canonical(parent, names[0])}.{part}"), written]
        if i < len(parts):  # a module attribute: also where another module defines it
            name = parts[-1]
            names += [f"{module.__name__}.{name}" for module in list(sys.modules.values())
                      if getattr(module, "__name__", "").startswith("homl_rl")
                      and module.__dict__.get(name, MISSING) is obj]
        return obj, list(dict.fromkeys(names))
    return MISSING, []


def candidates(target, module, classes):
    if target.startswith("."):
        package = module if hasattr(sys.modules.get(module), "__path__") else module.rsplit(".", 1)[0]
        yield package + target
        return
    for i in range(len(classes), -1, -1):
        yield ".".join([module, *classes[:i], target])
    yield target
