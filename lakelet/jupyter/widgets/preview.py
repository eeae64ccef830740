"""Previews of files in a volume: text, JSON, CSV, Parquet (first rows), images, hex for binary.

Only the head of a file is read (:data:`HEAD_BYTES`), except Parquet, whose
footer and first row group are read through the volume's fsspec view, and
images, read whole up to :data:`MAX_IMAGE`.
"""

from __future__ import annotations

import base64
import csv
import dataclasses
import io
import json
import mimetypes
from typing import Any

from ._html import esc, html_table, human_bytes, plain_text, shorten

#: bytes read for a text, JSON or CSV preview
HEAD_BYTES = 64 * 1024
#: rows shown for tables
PREVIEW_ROWS = 20
#: the largest image shown inline
MAX_IMAGE = 5 * 2**20
#: the largest file offered as an inline download link (a data: URI lives in the page)
MAX_DOWNLOAD = 20 * 2**20

_IMAGE_FORMATS = {".png": "png", ".jpg": "jpeg", ".jpeg": "jpeg", ".gif": "gif", ".webp": "webp", ".bmp": "bmp",
                  ".svg": "svg+xml"}
_TEXT = {".txt", ".md", ".py", ".log", ".yaml", ".yml", ".toml", ".ini", ".cfg", ".sh", ".html", ".xml", ".sql",
         ".rst", ".js", ".ts", ".css", ".r"}


@dataclasses.dataclass(frozen=True)
class Preview:
    """What to show for a file: ``kind`` is text, json, csv, parquet, image, binary or error."""

    kind: str
    html: str
    image: bytes | None = None
    image_format: str | None = None


def suffix(path: str) -> str:
    name = path.rsplit("/", 1)[-1]
    return "." + name.rsplit(".", 1)[-1].lower() if "." in name else ""


def preview_file(volume: Any, path: str, size: int) -> Preview:
    """A preview of the volume file ``path`` (``size`` bytes)."""
    ext = suffix(path)
    if ext in _IMAGE_FORMATS:
        if size > MAX_IMAGE:
            return Preview("image", f"<i>image of {human_bytes(size)}: too large to show inline</i>")
        data = _read_all(volume, path)
        return Preview("image", f"<i>{esc(human_bytes(size))} image</i>", data, _IMAGE_FORMATS[ext])
    if ext in (".parquet", ".pq"):
        return _parquet(volume, path)
    head = _head(volume, path)
    truncated = size > len(head)
    if ext in (".json", ".geojson", ".ipynb"):
        return _json(head, truncated)
    if ext in (".jsonl", ".ndjson"):
        return _text(head, truncated, "json")
    if ext in (".csv", ".tsv"):
        return _csv(head, truncated, "\t" if ext == ".tsv" else ",")
    if ext in _TEXT or _looks_like_text(head):
        return _text(head, truncated, "text")
    return _hex(head, size)


def _head(volume: Any, path: str) -> bytes:
    return bytes(volume.fs.cat_file(path, 0, HEAD_BYTES))


def _read_all(volume: Any, path: str) -> bytes:
    return b"".join(volume.read_file(path))


def _looks_like_text(data: bytes) -> bool:
    if b"\x00" in data[:4096]:
        return False
    try:
        data[:4096].decode("utf-8")
    except UnicodeDecodeError as e:
        return e.start >= 4092  # a multi-byte character cut at the end of the sample
    return True


def _text(head: bytes, truncated: bool, kind: str) -> Preview:
    text = head.decode("utf-8", errors="replace")
    more = '<div class="lakelet-muted">… (first 64 KiB)</div>' if truncated else ""
    return Preview(kind, f"<pre style='max-height:24em;overflow:auto'>{esc(text)}</pre>{more}")


def _json(head: bytes, truncated: bool) -> Preview:
    if truncated:
        return _text(head, truncated, "json")
    try:
        value = json.loads(head)
    except ValueError as e:
        preview = _text(head, truncated, "text")
        return Preview("text", f'<div class="lakelet-error">not valid JSON: {esc(e)}</div>{preview.html}')
    pretty = json.dumps(value, indent=2, ensure_ascii=False, default=str)
    return Preview("json", f"<pre style='max-height:24em;overflow:auto'>{esc(shorten(pretty, HEAD_BYTES))}</pre>")


def _csv(head: bytes, truncated: bool, delimiter: str) -> Preview:
    text = head.decode("utf-8", errors="replace")
    if truncated and "\n" in text:
        text = text[: text.rindex("\n")]  # drop the cut last line
    try:
        rows = list(_take(csv.reader(io.StringIO(text), delimiter=delimiter), PREVIEW_ROWS + 1))
    except csv.Error as e:
        preview = _text(head, truncated, "text")
        return Preview("text", f'<div class="lakelet-error">cannot parse as CSV: {esc(e)}</div>{preview.html}')
    if not rows:
        return Preview("csv", "<i>empty file</i>")
    header, body = rows[0], rows[1:]
    table = html_table(header, ([esc(shorten(c, 80)) for c in row] for row in body))
    return Preview("csv", f'<div class="lakelet-muted">first {len(body)} rows</div>{table}')


def _take(rows: Any, n: int) -> Any:
    for i, row in enumerate(rows):
        if i >= n:
            return
        yield row


def _parquet(volume: Any, path: str) -> Preview:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        with volume.fs.open(path, "rb") as f:
            pf = pq.ParquetFile(f)
            meta = pf.metadata
            batch = next(pf.iter_batches(batch_size=PREVIEW_ROWS), None)
            table = pa.Table.from_batches([batch]) if batch is not None else pf.schema_arrow.empty_table()
    except (pa.ArrowInvalid, OSError) as e:
        return Preview("error", f'<div class="lakelet-error">cannot read as Parquet: {esc(e)}</div>')
    schema = ", ".join(f"{esc(f.name)}: <i>{esc(f.type)}</i>" for f in table.schema)
    rows = table.to_pylist()
    body = html_table(table.column_names, ([esc(shorten(_cell(r[c]), 80)) for c in table.column_names] for r in rows))
    info = f"{meta.num_rows:,} rows, {meta.num_row_groups} row group(s); columns: {schema}"
    return Preview("parquet", f'<div class="lakelet-muted">{info}</div>{body}')


def _cell(value: Any) -> str:
    return plain_text(value)


def _hex(head: bytes, size: int) -> Preview:
    lines = []
    for at in range(0, min(len(head), 256), 16):
        chunk = head[at : at + 16]
        text = "".join(chr(b) if 32 <= b < 127 else "." for b in chunk)
        lines.append(f"{at:08x}  {chunk.hex(' '):<48}  {text}")
    return Preview("binary", f"<i>binary, {esc(human_bytes(size))}</i><pre>{esc(chr(10).join(lines))}</pre>")


def download_link(volume: Any, path: str, size: int) -> str:
    """An ``<a download>`` link carrying the file as a data: URI, or why there is none."""
    name = path.rsplit("/", 1)[-1]
    if size > MAX_DOWNLOAD:
        return (
            f'<span class="lakelet-muted">{esc(human_bytes(size))} is too large for a browser download link; '
            f"use <code>volume.get_file({esc(repr(path))}, local_path)</code></span>"
        )
    mime = mimetypes.guess_type(name)[0] or "application/octet-stream"
    data = base64.b64encode(_read_all(volume, path)).decode()
    return f'<a download="{esc(name)}" href="data:{mime};base64,{data}">⬇ download {esc(name)}</a>'


__all__ = ["HEAD_BYTES", "MAX_DOWNLOAD", "MAX_IMAGE", "PREVIEW_ROWS", "Preview", "download_link", "preview_file"]
