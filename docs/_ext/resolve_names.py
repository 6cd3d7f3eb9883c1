"""Docstring references that Sphinx's own lookup misses, resolved as Python resolves them.

The docstrings name things as their module sees them: ``:class:`RunResult``` in
``homl_rl.runs``, which imports it from ``homl_rl.run_cache``. Sphinx looks a short name up
in the current module and class only, where an imported name has no entry. This handler,
for a reference Sphinx could not resolve, looks the name up as ``tests/test_references.py``
does (the enclosing classes, the module, then the name as written; a leading ``.`` from the
package) and follows the object to where it is defined:

- documented on the site there: the reference links to it;
- an object that exists but has no entry on the site (a private helper, an attribute a
  class inherits from Gymnasium or TF-Agents): shown as code, unlinked;
- anything else (a misspelt name, a name that no longer exists): left unresolved, and the
  nitpicky build fails on it.
"""

import builtins

from python_names import MISSING, candidates, lookup
from sphinx.util import logging

logger = logging.getLogger(__name__)
def missing_reference(app, env, node, contnode):
    if node.get("refdomain") != "py":
        return None
    target = node.get("reftarget", "")
    module = node.get("py:module") or ""
    classes = (node.get("py:class") or "").split(".") if node.get("py:class") else []
    if not module.startswith("homl_rl") and not target.startswith("homl_rl"):
        return None
    domain = env.domains["py"]
    for dotted in candidates(target, module, classes):
        obj, names = lookup(dotted) if dotted.startswith("homl_rl") else (MISSING, [])
        if obj is MISSING:
            continue
        for name in names:
            if name in domain.objects:
                resolved = domain.resolve_xref(env, node["refdoc"], app.builder, node["reftype"],
                                               name, node, contnode)
                if resolved is None:  # the role does not fit the object's type: any role
                    resolved = domain.resolve_any_xref(env, node["refdoc"], app.builder, name,
                                                       node, contnode)
                    resolved = resolved[0][1] if resolved else None
                if resolved is not None:
                    return resolved
        return contnode  # exists, but the site documents it nowhere: shown unlinked
    if hasattr(builtins, target):
        return contnode
    if "<autosummary>" in (node.source or ""):
        # an autosummary table shows a module's first docstring line on its package's page,
        # out of its module: a name documented exactly once on the site is the one meant
        matches = [name for name in domain.objects if name.endswith("." + target.lstrip("."))]
        if len(matches) == 1:
            return domain.resolve_any_xref(env, node["refdoc"], app.builder, matches[0],
                                           node, contnode)[0][1]
    return None


def setup(app):
    app.connect("missing-reference", missing_reference)
    return {"version": "1", "parallel_read_safe": True}
