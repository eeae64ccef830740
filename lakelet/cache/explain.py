"""Explaining a miss: which parts of a key changed since the last entry."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from .journal import Record

_WORDS = {
    "code": "code of {}",
    "class": "class {}",
    "global": "global {}",
    "default": "default value {}",
    "closure": "closure variable {}",
    "arg": "argument {}",
    "input": "input variable {}",
    "library": "library {}",
    "cell": "the cell's code",
    "base": "base class {}",
    "object": "object {}",
    "attribute": "class attribute {}",
    "module": "source of module {} (or of a project module it imports)",
    "file": "content of file {}",
    "rng": "global random state of {} (a seed or draws in an earlier cell)",
    "mutated": "input {} (the cell changed it in place)",
}


def describe(component: str) -> str:
    """Human words for a component name such as ``global mod.f:RATE``."""
    kind, _, rest = component.partition(" ")
    template = _WORDS.get(kind, "{}")
    return template.format(rest) if "{}" in template else template


@dataclass
class Explanation:
    """Why a call or cell would (not) hit the cache."""

    name: str
    address: str
    hit: bool
    changes: list[str] = field(default_factory=list)
    compared_to: float | None = None  # when the entry we compared with was made

    def __str__(self) -> str:
        if self.hit:
            return f"{self.name}: hit (entry {self.address[:12]} is stored)"
        if self.compared_to is None:
            return f"{self.name}: miss, nothing was cached for it before"
        if not self.changes:
            return f"{self.name}: miss, same inputs as an entry that is no longer stored (evicted or cleared)"
        ago = _ago(time.time() - self.compared_to)
        lines = [f"{self.name}: miss; compared with the closest entry ({ago}):"]
        lines += [f"  - {change}" for change in self.changes]
        return "\n".join(lines)

    def _repr_pretty_(self, p: object, cycle: bool) -> None:
        p.text(str(self))  # type: ignore[attr-defined]


def explain(name: str, address: str, hit: bool, components: dict[str, str], history: Sequence[Record]) -> Explanation:
    """Compare ``components`` with the most similar entry in ``history``."""
    if hit or not history:
        return Explanation(name, address, hit)
    best = min(reversed(history), key=lambda r: _distance(components, r.components))
    return Explanation(name, address, False, diff(best.components, components), best.time)


def diff(before: dict[str, str], after: dict[str, str]) -> list[str]:
    """Readable differences between two component mappings."""
    changes = []
    for key in sorted(set(before) | set(after)):
        if key not in before:
            changes.append(f"new: {describe(key)}")
        elif key not in after:
            changes.append(f"no longer used: {describe(key)}")
        elif before[key] != after[key]:
            changes.append(f"changed: {describe(key)}")
    return changes


def _distance(a: dict[str, str], b: dict[str, str]) -> int:
    return sum(1 for k in set(a) | set(b) if a.get(k) != b.get(k))


def _ago(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f} s ago"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min ago"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.0f} h ago"
    return f"{seconds / 86400:.0f} days ago"


__all__ = ["Explanation", "describe", "diff", "explain"]
