"""Memoization that knows when code changed.

``@smart_cache`` keeps results of functions, ``%%lake_cache`` (see
:mod:`lakelet.jupyter.cache_magic`) whole notebook cells, in a lakelet storage.
Keys are made of normalized code (the function's and, transitively, what it
calls), the values it reads and its arguments, so a semantic edit invalidates and
a comment does not. See :mod:`lakelet.cache.signing` for the trust model.

May import: the storage core (``hashstore``, ``locations``, ``registry``, ``config``, ``errors`` and the
``_`` helpers). Not ``primitives`` or ``datasets`` (a sibling layer), never ``jupyter`` or ``cli``.
"""

from __future__ import annotations

from .decorator import CachedFunction, CacheInfo, smart_cache
from .errors import CacheWarning, UnhashableValue, UnstorableValue, UntrustedEntry
from .explain import Explanation
from .files import File
from .marks import mark_module_unstable, mark_unstable
from .persist import flush

__all__ = [
    "CacheInfo",
    "CacheWarning",
    "CachedFunction",
    "Explanation",
    "File",
    "UnhashableValue",
    "UnstorableValue",
    "UntrustedEntry",
    "flush",
    "mark_module_unstable",
    "mark_unstable",
    "smart_cache",
]
