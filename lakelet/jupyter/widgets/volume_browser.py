"""``VolumeBrowser``: browse a :class:`~lakelet.primitives.Volume` page by page.

Breadcrumbs, a sorted and filtered listing of one folder page, previews (text,
JSON, CSV, Parquet, images), upload, download link, delete with confirmation,
copy path. Every action is also a method (``navigate``, ``select``, ``delete``...)
so notebooks and tests can drive the browser without clicking.
"""

from __future__ import annotations

import io
import json
from typing import Any

import ipywidgets as W

from ...errors import InvalidArgument, StorageKeyNotFound
from ...primitives.entries import PathNotFound
from ...primitives.names import join, normalize_path
from ...primitives.volume_pages import Child, DirectoryPages, Page
from ._common import Confirm, Folders, Pager, Status, small_button
from ._html import STYLE, esc, human_bytes, human_time
from .preview import download_link, preview_file

_SORTS = (("name", "name"), ("size", "size"), ("modified", "mtime"))
_NAME_WIDTH = 44


def _label(child: Child) -> str:
    name = child.name + "/" if child.is_dir else child.name
    if len(name) > _NAME_WIDTH:
        name = name[: _NAME_WIDTH - 1] + "…"
    size = human_bytes(child.size) if child.complete else "≥" + human_bytes(child.size)
    if child.is_dir:
        files = f"{child.files:,}{'' if child.complete else '+'} files"
        return f"{name:<{_NAME_WIDTH}} {size:>11}  {human_time(child.mtime):<19}  {files}"
    return f"{name:<{_NAME_WIDTH}} {size:>11}  {human_time(child.mtime):<19}"


class VolumeBrowser(W.VBox):
    """A file browser over one volume; only the folder page on screen is ever listed."""

    def __init__(self, volume: Any, *, page_size: int = 50) -> None:
        if not hasattr(volume, "listdir") or not hasattr(volume, "put_file"):
            raise InvalidArgument(f"VolumeBrowser needs a lakelet Volume, got {type(volume).__name__}")
        if not isinstance(page_size, int) or not 1 <= page_size <= 1000:
            raise InvalidArgument(f"page_size must be an int from 1 to 1000, got {page_size!r}")
        self.volume = volume
        env = getattr(volume, "_env", None)
        self.folders = Folders([env.root] if env is not None and not env.shared else [])
        self.pages = DirectoryPages(volume)
        self.folder = ""
        self.page: Page | None = None
        self.status = Status()
        self.confirm = Confirm(self.status)
        guard = self.status.guard

        self.title = W.HTML(f"{STYLE}<b>Volume {esc(volume.name)}</b> "
                            f'<span class="lakelet-muted">environment {esc(volume.environment_name)}</span>')
        self.breadcrumbs = W.HBox()
        self.name_filter = W.Text(placeholder="filter by name", continuous_update=False,
                                  layout=W.Layout(width="220px"))
        self.sort = W.Dropdown(options=_SORTS, value="name", description="sort", layout=W.Layout(width="170px"))
        self.descending = W.ToggleButton(value=False, description="↓ desc", layout=W.Layout(width="80px"))
        self.refresh_button = small_button("⟳ refresh")
        self.upload = W.FileUpload(multiple=True, description="upload")
        self.listing = W.Select(options=[], rows=16, layout=W.Layout(width="100%"))
        self.listing.add_class("lakelet-mono")
        self.listing.add_class("lakelet-dblclick-open")  # the labextension turns a double-click into "open"
        self.pager = Pager(guard(self._go), page_size)
        self.open_button = small_button("open ▸", "open the selected folder (or double-click it)")
        self.open_button.add_class("lakelet-open-button")
        self.up_button = small_button("▲ up", "parent folder")
        self.copy_button = small_button("copy path")
        self.delete_button = small_button("delete", "delete the selected file or folder", button_style="danger")
        self.path_box = W.Text(description="path", layout=W.Layout(width="60%"))
        self.copy_html = W.HTML()
        self.info = W.HTML()
        self.preview_html = W.HTML(layout=W.Layout(width="100%", overflow="auto"))  # wide tables scroll
        self.preview_image = W.Image(layout=W.Layout(display="none", max_width="480px"))
        self.download = W.HTML()
        self.progress = W.IntProgress(min=0, max=1, layout=W.Layout(display="none", width="60%"))

        self.refresh_button.on_click(lambda _: guard(self.refresh)())
        self.open_button.on_click(lambda _: guard(self._open_selected)())
        self.up_button.on_click(lambda _: guard(self.up)())
        self.copy_button.on_click(lambda _: guard(self.copy_path)())
        self.delete_button.on_click(lambda _: guard(self.delete)())
        for control in (self.name_filter, self.sort, self.descending):
            control.observe(lambda _: guard(self.refresh)(), names="value")
        self.listing.observe(lambda change: guard(self._selected)(change["new"]), names="value")
        self.upload.observe(lambda change: guard(self._uploaded)(change["new"]), names="value")

        toolbar = W.HBox([self.name_filter, self.sort, self.descending, self.refresh_button, self.upload])
        actions = W.HBox([self.up_button, self.open_button, self.copy_button, self.delete_button])
        preview = W.VBox([self.info, self.download, self.preview_image, self.preview_html])
        super().__init__([self.title, self.breadcrumbs, toolbar, self.listing, self.pager, actions,
                          W.HBox([self.path_box, self.copy_html]), self.confirm, self.progress, self.status, preview])
        self.add_class("lakelet-browser")
        guard(self.refresh)()

    # ------------------------------------------------------------------ navigation
    @property
    def names(self) -> list[str]:
        """Names on the current page (folders end in ``/``)."""
        if self.page is None:
            return []
        return [c.name + "/" if c.is_dir else c.name for c in self.page.children]

    @property
    def selected(self) -> Child | None:
        if self.page is None or self.listing.value is None:
            return None
        return next((c for c in self.page.children if c.path == self.listing.value), None)

    def navigate(self, path: str) -> None:
        """Go to folder ``path`` (``/`` is the root), or select and preview the file ``path``."""
        p = normalize_path(path)
        if self.pages.is_dir(p):
            self.folder = p
            self.refresh()
            return
        if not self.volume.exists(p):
            raise PathNotFound(f"/{p} not found in {self.volume!r}")
        parent, name = p.rsplit("/", 1) if "/" in p else ("", p)
        self.folder = parent
        self._load(0, keep_status=False)
        if self.page is not None and all(c.path != p for c in self.page.children):
            self.name_filter.value = name  # not on the first page: filter down to it (reloads)
        self._select_path(p)

    def up(self) -> None:
        """Go to the parent folder."""
        self.navigate(self.folder.rsplit("/", 1)[0] if "/" in self.folder else "")

    def select(self, name: str) -> None:
        """Select the child ``name`` of the current folder (on the current page)."""
        self._select_path(join(self.folder, name.rstrip("/")))

    def _select_path(self, path: str) -> None:
        if self.page is None or all(c.path != path for c in self.page.children):
            raise InvalidArgument(f"{path!r} is not on the current page of {self.folder or '/'}")
        self.listing.value = path

    def refresh(self) -> None:
        """List the current folder again from its first page."""
        self._load(0, keep_status=False)

    def _go(self, offset: int) -> None:
        self._load(offset, keep_status=True)

    def _load(self, offset: int, *, keep_status: bool) -> None:
        try:
            self.folders.check()
        except StorageKeyNotFound:
            self.page = None
            self.listing.options = []
            self.pager.update(0, 0, 0)
            raise
        self.page = self.pages.page(
            self.folder, offset=offset, limit=self.pager.page_size, sort=self.sort.value,
            descending=self.descending.value, name_filter=self.name_filter.value,
        )
        self.listing.options = [(_label(c), c.path) for c in self.page.children]
        self.listing.value = None
        self.pager.update(self.page.offset, len(self.page.children), self.page.total, self.page.has_more)
        self._breadcrumbs()
        self._clear_preview()
        if not keep_status:
            self.status.clear()

    def _breadcrumbs(self) -> None:
        parts = self.folder.split("/") if self.folder else []
        buttons = [self._crumb("/", "")]
        for i, part in enumerate(parts):
            buttons.append(self._crumb(part, "/".join(parts[: i + 1])))
        for old in self.breadcrumbs.children:
            old.close()
        self.breadcrumbs.children = buttons
        self.up_button.disabled = not self.folder

    def _crumb(self, label: str, path: str) -> W.Button:
        button = small_button(label, f"go to /{path}")
        button.on_click(lambda _: self.status.guard(self.navigate)(path or "/"))
        return button

    def _open_selected(self) -> None:
        """Open the selected folder (the open button, or a double-click in JupyterLab); a file stays previewed."""
        child = self.selected
        if child is None:
            raise InvalidArgument("select a folder first")
        if child.is_dir:
            self.navigate(child.path)

    # ------------------------------------------------------------------ selection and preview
    def _clear_preview(self) -> None:
        self.info.value = self.preview_html.value = self.download.value = self.copy_html.value = ""
        self.preview_image.layout.display = "none"
        self.path_box.value = ""
        self.copy_button.disabled = self.delete_button.disabled = True

    def _selected(self, path: str | None) -> None:
        self._clear_preview()
        child = self.selected
        if path is None or child is None:
            return
        self.path_box.value = "/" + child.path
        self.copy_button.disabled = self.delete_button.disabled = False
        if child.is_dir:
            more = "" if child.complete else "+"
            self.info.value = (f"<b>{esc(child.name)}/</b> folder: {child.files:,}{more} files, "
                               f"{esc(human_bytes(child.size))}, newest {esc(human_time(child.mtime))}")
            return
        self.info.value = (f"<b>{esc(child.name)}</b> {esc(human_bytes(child.size))}, "
                           f"modified {esc(human_time(child.mtime))}")
        shown = preview_file(self.volume, child.path, child.size)
        self.preview_html.value = shown.html
        if shown.image is not None:
            self.preview_image.format = shown.image_format or "png"
            self.preview_image.value = shown.image
            self.preview_image.layout.display = "block"
        self.download.value = download_link(self.volume, child.path, child.size)

    def copy_path(self) -> str:
        """Put the selected path in the path box (and offer a clipboard button); returns it."""
        child = self.selected
        if child is None:
            raise InvalidArgument("select a file or folder first")
        path = "/" + child.path
        self.path_box.value = path
        quoted = esc(json.dumps(path))
        self.copy_html.value = f"<button onclick='navigator.clipboard.writeText({quoted})'>📋 to clipboard</button>"
        self.status.info(f"path {path}")
        return path

    # ------------------------------------------------------------------ changes
    def delete(self) -> None:
        """Ask to delete the selected file or folder; the deletion runs when confirmed."""
        child = self.selected
        if child is None:
            raise InvalidArgument("select a file or folder first")
        what = f"folder /{child.path} and the {child.files:,} files below it" if child.is_dir else f"/{child.path}"

        def remove() -> None:
            self.volume.remove_file(child.path, recursive=child.is_dir)
            self.pages.invalidate()
            self._load(0, keep_status=True)
            self.status.info(f"deleted /{child.path}")

        self.confirm.ask(f"Delete {what}? This cannot be undone.", remove, yes="Delete")

    def _uploaded(self, files: Any) -> None:
        if not files:
            return
        items = [(f["name"], bytes(f["content"])) for f in files]
        for name, _ in items:
            if "/" in name or name in ("", ".", ".."):
                raise InvalidArgument(f"cannot upload a file named {name!r}")
        total = sum(len(data) for _, data in items)
        self.progress.max, self.progress.value = max(total, 1), 0
        self.progress.layout.display = "flex" if len(items) > 1 else "none"
        try:
            for name, data in items:
                self.volume.put_file(io.BytesIO(data), join(self.folder, name))
                self.progress.value += len(data)
        finally:
            self.progress.layout.display = "none"
            self.upload.value = ()
        self.pages.invalidate()
        self._load(0, keep_status=True)
        self.status.info(f"uploaded {len(items)} file(s), {human_bytes(total)} to /{self.folder}")

    def __repr__(self) -> str:
        return f"VolumeBrowser({self.volume.name!r}, folder={'/' + self.folder!r})"


__all__ = ["VolumeBrowser"]
