"""Datasets made from image folders and COCO annotations (Deep Lake's ``from_coco``), streamed.

Images are stored as the encoded files they are (no decode, no re-encode), content-addressed in
the dataset's media store, read in batches (``fs.cat`` of many files at once: parallel on object
stores); the table rows are small, and :func:`.importers.ingest` spills them as it goes and commits
once, so a folder larger than memory imports with memory bounded by a batch of files.
"""

from __future__ import annotations

import json
import os
import posixpath
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from ..errors import InvalidArgument
from . import types as T
from .importers import PIECE_BYTES, Url, _positive, _source, ingest

if TYPE_CHECKING:
    from .dataset import Dataset

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".webp")
_COMPRESSION = {".png": "png", ".jpg": "jpeg", ".jpeg": "jpeg", ".bmp": "bmp", ".tif": "tiff", ".tiff": "tiff",
                ".webp": "webp"}


def _compression(paths: list[str]) -> str | None:
    """The one compression all files share (recorded on the Image type), else None."""
    found = {_COMPRESSION.get(posixpath.splitext(p)[1].lower()) for p in paths}
    return found.pop() if len(found) == 1 else None


def _read(fs: Any, paths: list[str]) -> list[bytes]:
    data = fs.cat(paths, on_error="raise")
    if isinstance(data, bytes):  # one path: fsspec returns the bytes themselves
        data = {paths[0]: data}
    by_name = {fs._strip_protocol(k): v for k, v in data.items()}
    return [by_name[fs._strip_protocol(p)] for p in paths]


def from_images(
    folder: Url,
    dest: Url | None = None,
    *,
    labels_from: str | Callable[[str], str] | None = "parent_dir",
    src_creds: Mapping[str, Any] | None = None,
    dest_creds: Mapping[str, Any] | None = None,
    message: str | None = None,
    progress: bool = True,
    batch_files: int = 256,
    piece_bytes: int = PIECE_BYTES,
) -> Dataset:
    """Import every image under ``folder`` (any backend; searched recursively, sorted by path).

    Columns: ``image`` (:class:`~lakelet.datasets.types.Image`, the file's bytes), ``filename`` (the
    path relative to ``folder``) and, unless ``labels_from=None``, ``label``: a ClassLabel whose names
    are the images' parent folder names (``"parent_dir"``, sorted) or ``labels_from(relative_path)``.
    """
    fs, root, _ = _source(folder, src_creds)
    if not fs.exists(root) or not fs.isdir(root):
        raise InvalidArgument(f"no such folder: {os.fspath(folder)!r}")
    step = _positive(batch_files, "batch_files")
    files = sorted(p for p in fs.find(root) if p.lower().endswith(IMAGE_SUFFIXES))
    if not files:
        raise InvalidArgument(f"no images ({', '.join(IMAGE_SUFFIXES)}) under {os.fspath(folder)!r}")
    base = root.rstrip("/") + "/"
    relative = [p[len(base):] if p.startswith(base) else posixpath.basename(p) for p in files]
    schema: dict[str, T.DataType] = {"image": T.Image(sample_compression=_compression(files)), "filename": T.Text()}
    labels: list[str] | None = None
    if labels_from is not None:
        labels = [_label(rel, labels_from) for rel in relative]
        schema["label"] = T.ClassLabel(labels=sorted(set(labels)))

    def batches() -> Iterator[dict[str, Any]]:
        for i in range(0, len(files), step):
            batch: dict[str, Any] = {"image": _read(fs, files[i:i + step]), "filename": relative[i:i + step]}
            if labels is not None:
                batch["label"] = labels[i:i + step]
            yield batch

    return ingest(batches(), dest, dest_creds, schema=schema, message=message or "from_images", total=len(files),
                  progress=progress, piece_bytes=piece_bytes, unit="images")


def _label(relative: str, labels_from: str | Callable[[str], str]) -> str:
    if callable(labels_from):
        label = labels_from(relative)
        if not isinstance(label, str):
            raise InvalidArgument(f"labels_from({relative!r}) returned {label!r}, not a str")
        return label
    if labels_from != "parent_dir":
        raise InvalidArgument(f"labels_from must be 'parent_dir', a function of the path, or None; got {labels_from!r}")
    parent = posixpath.dirname(relative)
    if not parent:
        raise InvalidArgument(f"{relative!r} is not inside a class folder; put it in one, or pass labels_from=None")
    return posixpath.basename(parent)


# ------------------------------------------------------------------------------ COCO
COCO_SCHEMA: dict[str, T.DataType] = {
    "image": T.Image(),
    "image_id": T.Int64(),
    "filename": T.Text(),
    "width": T.Int32(),
    "height": T.Int32(),
}


def _group_schema(prefix: str) -> dict[str, T.DataType]:
    return {
        f"{prefix}annotation_ids": T.Sequence(T.Int64()),
        f"{prefix}boxes": T.Array("float32", dimensions=2),  # one [x, y, width, height] per annotation
        f"{prefix}categories": T.Sequence(T.Text()),
        f"{prefix}category_ids": T.Sequence(T.Int64()),
        f"{prefix}areas": T.Sequence(T.Float32()),
        f"{prefix}iscrowd": T.Sequence(T.Bool()),
        f"{prefix}segmentations": T.Sequence(T.Text()),  # COCO polygons or RLE, as JSON text
        f"{prefix}keypoints": T.Sequence(T.Sequence(T.Float32())),
    }


def _load_json(fs: Any, path: str) -> dict[str, Any]:
    try:
        with fs.open(path, "rb") as f:
            data = json.load(f)
    except (OSError, ValueError) as e:
        raise InvalidArgument(f"cannot read COCO annotations {path!r}: {e}") from e
    if not isinstance(data, dict) or not isinstance(data.get("images"), list):
        raise InvalidArgument(f"{path!r} is not a COCO annotation file (no 'images' list)")
    return data


def from_coco(
    images_directory: Url,
    annotation_files: Url | Mapping[str, Url],
    dest: Url | None = None,
    *,
    src_creds: Mapping[str, Any] | None = None,
    dest_creds: Mapping[str, Any] | None = None,
    message: str | None = None,
    progress: bool = True,
    batch_files: int = 256,
    piece_bytes: int = PIECE_BYTES,
) -> Dataset:
    """Import a COCO dataset: one row per image of the annotation files, with its annotations.

    ``annotation_files``: one JSON path, or Deep Lake's ``{"instances": path, "keypoints": path, ...}``.
    The first group's columns are unprefixed (``boxes``, ``categories``, ``category_ids``,
    ``areas``, ``iscrowd``, ``segmentations``, ``keypoints``, ``annotation_ids``); the others' carry
    ``<group>_``. Boxes are COCO's ``[x, y, width, height]`` in pixels.
    """
    fs, root, _ = _source(images_directory, src_creds)
    if not fs.exists(root) or not fs.isdir(root):
        raise InvalidArgument(f"no such folder: {os.fspath(images_directory)!r}")
    groups = dict(annotation_files) if isinstance(annotation_files, Mapping) else {"instances": annotation_files}
    if not groups:
        raise InvalidArgument("no annotation files given")
    loaded = {}
    for name, path in groups.items():
        afs, apath, _ = _source(path, src_creds)
        loaded[name] = _load_json(afs, apath)
    first = next(iter(loaded.values()))
    images = sorted(first["images"], key=lambda im: im["id"])
    schema = dict(COCO_SCHEMA)
    prefixes = {}
    for i, name in enumerate(loaded):
        prefixes[name] = "" if i == 0 else f"{name}_"
        schema.update(_group_schema(prefixes[name]))
    by_image = {name: _annotations_by_image(data) for name, data in loaded.items()}
    base = root.rstrip("/")
    step = _positive(batch_files, "batch_files")

    def batches() -> Iterator[dict[str, list[Any]]]:
        for i in range(0, len(images), step):
            chunk = images[i:i + step]
            paths = [f"{base}/{im['file_name']}" for im in chunk]
            missing = [p for p in paths if not fs.exists(p)]
            if missing:
                raise InvalidArgument(f"image {missing[0]!r} named by the annotations is not in {images_directory!r}")
            batch: dict[str, list[Any]] = {
                "image": _read(fs, paths),
                "image_id": [im["id"] for im in chunk],
                "filename": [im["file_name"] for im in chunk],
                "width": [im.get("width") for im in chunk],
                "height": [im.get("height") for im in chunk],
            }
            for name, per_image in by_image.items():
                columns = _group_columns([per_image.get(im["id"], []) for im in chunk], loaded[name])
                batch.update({prefixes[name] + k: v for k, v in columns.items()})
            yield batch

    return ingest(batches(), dest, dest_creds, schema=schema, message=message or "from_coco", total=len(images),
                  progress=progress, piece_bytes=piece_bytes, unit="images")


def _annotations_by_image(data: dict[str, Any]) -> dict[Any, list[dict[str, Any]]]:
    out: dict[Any, list[dict[str, Any]]] = {}
    for ann in data.get("annotations", []):
        out.setdefault(ann["image_id"], []).append(ann)
    for anns in out.values():
        anns.sort(key=lambda a: a.get("id", 0))
    return out


def _group_columns(per_row: list[list[dict[str, Any]]], data: dict[str, Any]) -> dict[str, list[Any]]:
    names = {c["id"]: c["name"] for c in data.get("categories", [])}
    cols: dict[str, list[Any]] = {k: [] for k in ("annotation_ids", "boxes", "categories", "category_ids", "areas",
                                                   "iscrowd", "segmentations", "keypoints")}
    for anns in per_row:
        cols["annotation_ids"].append([a.get("id") for a in anns])
        cols["boxes"].append([[float(x) for x in a.get("bbox", [0, 0, 0, 0])] for a in anns] if anns else None)
        cols["categories"].append([names.get(a.get("category_id"), str(a.get("category_id"))) for a in anns])
        cols["category_ids"].append([a.get("category_id") for a in anns])
        cols["areas"].append([float(a.get("area", 0.0)) for a in anns])
        cols["iscrowd"].append([bool(a.get("iscrowd", 0)) for a in anns])
        cols["segmentations"].append([json.dumps(a.get("segmentation")) for a in anns])
        cols["keypoints"].append([[float(x) for x in a["keypoints"]] for a in anns if "keypoints" in a])
    return cols
