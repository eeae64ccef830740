"""Widgets the browsers share: a pager, a confirmation bar, the status line.

:class:`Status` is the one place where errors raised while handling a click
become something the user reads: :meth:`Status.guard` shows a lakelet error's
message and lets anything else propagate (ipywidgets logs it with its traceback).
"""

from __future__ import annotations

import functools
import html
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import ipywidgets as W

from ...errors import LakeletError, StorageKeyNotFound
from ._html import esc

F = TypeVar("F", bound=Callable[..., Any])

# ------------------------------------------------------------------------------ widgets
class Status(W.HTML):
    """A one-line message area; :meth:`guard` turns lakelet errors in callbacks into messages."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(value="", **kwargs)
        self.add_class("lakelet-status")

    def info(self, message: str) -> None:
        self.value = esc(message)

    def error(self, error: BaseException | str) -> None:
        text = error if isinstance(error, str) else f"{type(error).__name__}: {error}"
        self.value = f'<span class="lakelet-error">{esc(text)}</span>'

    def clear(self) -> None:
        self.value = ""

    @property
    def text(self) -> str:
        """The message without markup (for tests and logs)."""
        return html.unescape(_strip_tags(self.value))

    def guard(self, func: F) -> F:
        """Wrap a callback: a :class:`LakeletError` it raises is shown here instead of lost in a log."""

        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                return func(*args, **kwargs)
            except LakeletError as e:
                self.error(e)
                return None

        return wrapper  # type: ignore[return-value]


def _strip_tags(text: str) -> str:
    out, inside = [], False
    for ch in text:
        if ch == "<":
            inside = True
        elif ch == ">":
            inside = False
        elif not inside:
            out.append(ch)
    return "".join(out)


class Pager(W.HBox):
    """First/previous/next buttons and a "rows a–b of n" label; calls ``on_change(offset)``."""

    def __init__(self, on_change: Callable[[int], None], page_size: int = 50) -> None:
        self.page_size = page_size
        self.offset = 0
        self.total: int | None = 0
        self.has_more = False
        self._on_change = on_change
        # ⇤ (U+21E4) is in the default UI fonts; ⏮ (U+23EE) rendered as an empty box in some
        self.first = W.Button(description="⇤", tooltip="first page", layout=W.Layout(width="40px"))
        self.prev = W.Button(description="◀", tooltip="previous page", layout=W.Layout(width="40px"))
        self.next = W.Button(description="▶", tooltip="next page", layout=W.Layout(width="40px"))
        self.label = W.Label()
        self.first.on_click(lambda _: self.go(0))
        self.prev.on_click(lambda _: self.go(max(self.offset - self.page_size, 0)))
        self.next.on_click(lambda _: self.go(self.offset + self.page_size))
        super().__init__([self.first, self.prev, self.next, self.label])

    def go(self, offset: int) -> None:
        self._on_change(max(offset, 0))

    def update(self, offset: int, shown: int, total: int | None, has_more: bool | None = None) -> None:
        """Record what the current page shows; ``total`` None means "unknown, more if has_more"."""
        self.offset, self.total = offset, total
        self.has_more = bool(has_more) if has_more is not None else total is not None and offset + shown < total
        self.first.disabled = self.prev.disabled = offset == 0
        self.next.disabled = not self.has_more
        if shown == 0:
            self.label.value = "nothing to show" if offset == 0 else f"nothing after {offset:,}"
        elif total is None:
            self.label.value = f"{offset + 1:,}–{offset + shown:,}" + (" of more" if self.has_more else "")
        else:
            self.label.value = f"{offset + 1:,}–{offset + shown:,} of {total:,}"


class Confirm(W.HBox):
    """A hidden "Really …? [Yes] [Cancel]" bar; :meth:`ask` shows it, Yes runs the action once."""

    def __init__(self, status: Status) -> None:
        self._status = status
        self._action: Callable[[], None] | None = None
        self.question = W.HTML()
        self.yes = W.Button(description="Yes", button_style="danger", layout=W.Layout(width="70px"))
        self.no = W.Button(description="Cancel", layout=W.Layout(width="70px"))
        self.yes.on_click(lambda _: self._answer(True))
        self.no.on_click(lambda _: self._answer(False))
        super().__init__([self.question, self.no, self.yes], layout=W.Layout(display="none"))

    @property
    def pending(self) -> bool:
        return self._action is not None

    def ask(self, question: str, action: Callable[[], None], *, yes: str = "Yes") -> None:
        """Show ``question``; ``yes`` (e.g. "Delete") labels the button that runs ``action``.

        Cancel gets the keyboard focus, so Enter never confirms a deletion by accident.
        """
        self._action = action
        self.question.value = f"<b>{esc(question)}</b>"
        self.yes.description = yes
        self.yes.layout.width = "auto"
        self.layout.display = "flex"
        self.no.focus()

    def _answer(self, yes: bool) -> None:
        action, self._action = self._action, None
        self.layout.display = "none"
        self.question.value = ""
        if yes and action is not None:
            self._status.guard(action)()
        elif not yes:
            self._status.info("cancelled")


class Folders:
    """The local folders a browser shows, remembered while they exist, so a deleted one is noticed.

    A demo that deletes its ``LAKELET_HOME`` (or a user who removes a lake folder) must not leave
    a browser listing files that are gone: :meth:`check` raises a lakelet error naming the folder.
    """

    def __init__(self, folders: list[Path]) -> None:
        self.folders = [f for f in dict.fromkeys(folders) if f.exists()]

    def add(self, folder: Path) -> None:
        if folder.exists() and folder not in self.folders:
            self.folders.append(folder)

    def check(self) -> None:
        gone = [f for f in self.folders if not f.exists()]
        if gone:
            raise StorageKeyNotFound(f"{gone[0]} was deleted (with its LAKELET_HOME?): what this browser showed is "
                                     "gone; close it, or open a new one")


def small_button(description: str, tooltip: str = "", width: str = "auto", **kwargs: Any) -> W.Button:
    """A compact button."""
    return W.Button(description=description, tooltip=tooltip or description, layout=W.Layout(width=width), **kwargs)


__all__ = ["Confirm", "Folders", "Pager", "Status", "small_button"]
