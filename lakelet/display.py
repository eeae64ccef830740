"""How core objects reach the notebook face without importing it.

The core (storage, cache, primitives, datasets) never imports
:mod:`lakelet.jupyter`. Rich HTML views are registered with IPython by class
name when lakelet is imported inside a running IPython or when
``%load_ext lakelet`` runs (:func:`lakelet.jupyter.reprs.register`). A
``browse()`` method finds its widget through the ``lakelet.browsers`` entry
point group, which lakelet's own ``pyproject.toml`` declares for its widgets —
the same way pandas finds a plotting backend, so another package can provide a
browser for a lakelet class too.
"""

from __future__ import annotations

from importlib.metadata import entry_points
from typing import Any

from .errors import MissingDependency

#: entry point group: class name -> ``module:WidgetClass`` taking ``(obj, **options)``
BROWSERS = "lakelet.browsers"


def browser(obj: Any, **options: Any) -> Any:
    """The interactive browser widget for ``obj`` (the first entry point named after a class of its MRO)."""
    for cls in type(obj).__mro__:
        for found in entry_points(group=BROWSERS, name=cls.__name__):
            return found.load()(obj, **options)
    raise MissingDependency(
        f"no browser widget for {type(obj).__name__} is installed: pip install 'lakelet[jupyter]' "
        "(or reinstall lakelet so its entry points are registered)"
    )


__all__ = ["BROWSERS", "browser"]
