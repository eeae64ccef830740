"""Three-way merge and diff of dataset versions, keyed by stable row ids.

Every row carries a hidden 64-bit ``_rowid`` assigned when it is appended and
kept through edits, so two versions can be compared row by row: a row is
*added* (id only in the newer), *removed* (only in the older) or *changed*
(values differ, compared by DuckDB with ``IS DISTINCT FROM`` over the columns
both versions share). A merge applies the other branch's changes to this one
and refuses, listing the rows, when both sides changed or one removed a row the
other changed.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pyarrow as pa

from . import manifest as M
from . import refs
from .errors import DatasetError, MergeConflict
from .fragments import ROWID, ColumnLoader
from .results import QueryView
from .schema import Column, Schema
from .sql import connect
from .state import State

if TYPE_CHECKING:
    from .dataset import Dataset


@dataclass
class Changes:
    added: np.ndarray  # row ids, in the newer version's order
    removed: np.ndarray
    changed: np.ndarray


def _ancestors(ds: Dataset, start: str) -> dict[str, int]:
    depth = {start: 0}
    queue = deque([start])
    while queue:
        commit = queue.popleft()
        for parent in M.load(ds.checked_out.writer, commit).parents:
            if parent not in depth:
                depth[parent] = depth[commit] + 1
                queue.append(parent)
    return depth


def common_ancestor(ds: Dataset, a: str, b: str) -> str | None:
    mine = _ancestors(ds, a)
    theirs = _ancestors(ds, b)
    shared = [c for c in theirs if c in mine]
    return min(shared, key=lambda c: (mine[c], theirs[c])) if shared else None


def rowids(loader: ColumnLoader, state: State) -> np.ndarray:
    if not state.pieces:
        return np.zeros(0, dtype=np.int64)
    return state.column(loader, ROWID).to_numpy()


def changed_rows(loader: ColumnLoader, old: State, new: State, ids: np.ndarray) -> np.ndarray:
    """Row ids (present in both) whose values differ over the columns both schemas share."""
    common = [c.id for c in old.schema if new.schema.by_id(c.id) is not None]
    if not common or not len(ids):
        return np.zeros(0, dtype=np.int64)
    con = connect()
    con.register("a", _id_table(loader, old, common))
    con.register("b", _id_table(loader, new, common))
    cond = " OR ".join(f'a."{c}" IS DISTINCT FROM b."{c}"' for c in common)
    rows = con.execute(f"SELECT a.{ROWID} FROM a JOIN b USING ({ROWID}) WHERE {cond}").fetchall()
    return np.array([r[0] for r in rows], dtype=np.int64)


def _id_table(loader: ColumnLoader, state: State, ids: list[str]) -> pa.Table:
    arrays = {cid: state.column(loader, cid) for cid in ids}
    arrays[ROWID] = state.column(loader, ROWID) if state.pieces else pa.chunked_array([], pa.int64())
    return pa.table(arrays)


def changes(loader: ColumnLoader, old: State, new: State) -> Changes:
    old_ids, new_ids = rowids(loader, old), rowids(loader, new)
    both = np.intersect1d(old_ids, new_ids)
    return Changes(
        added=new_ids[~np.isin(new_ids, old_ids)],
        removed=old_ids[~np.isin(old_ids, new_ids)],
        changed=changed_rows(loader, old, new, both),
    )


def positions(all_ids: np.ndarray, wanted: np.ndarray) -> np.ndarray:
    """Indices in ``all_ids`` of each id in ``wanted`` (every id must be present)."""
    order = np.argsort(all_ids, kind="stable")
    return order[np.searchsorted(all_ids[order], wanted)]


def merge_schemas(base: Schema, ours: Schema, theirs: Schema) -> Schema:
    """Ours, plus columns theirs added, minus columns theirs removed; same name, two new ids: conflict."""
    columns: list[Column] = []
    for column in ours:
        if base.by_id(column.id) is not None and theirs.by_id(column.id) is None:
            continue  # theirs removed it
        columns.append(column)
    names = {c.name for c in columns}
    clash = []
    for column in theirs:
        if base.by_id(column.id) is None and ours.by_id(column.id) is None:
            if column.name in names:
                clash.append(column.name)
            columns.append(column)
    if clash:
        raise MergeConflict("both branches added a column with the same name", columns=clash)
    return Schema(columns)


def merge(ds: Dataset, name: str, message: str | None) -> str:
    co = ds.checked_out
    co.require_writable()
    if co.dirty:
        raise DatasetError("uncommitted changes: commit() or rollback() before merge")
    theirs_id, theirs = co.manifest_state(name)
    ours_id, ours = co.head_id, co.state
    base_id = common_ancestor(ds, ours_id, theirs_id)
    if base_id == theirs_id:
        return ours_id  # already contained
    if base_id == ours_id:  # fast-forward
        co.head_seq = refs.move(co.writer, co.branch, co.head_seq, theirs_id)  # type: ignore[arg-type]
        co.load(co.branch)  # type: ignore[arg-type]
        return theirs_id
    base = State.of(Schema(), []) if base_id is None else co.manifest_state(base_id)[1]
    loader = co.loader
    schema = merge_schemas(base.schema, ours.schema, theirs.schema)
    mine, other = changes(loader, base, ours), changes(loader, base, theirs)
    _check_conflicts(loader, ours, theirs, mine, other)
    state = ours.with_schema(schema)
    ours_ids = rowids(loader, ours)
    if len(other.removed):
        gone = other.removed[np.isin(other.removed, ours_ids)]
        state = state.deleted(loader, positions(ours_ids, gone))
        ours_ids = rowids(loader, state)
    theirs_ids = rowids(loader, theirs)
    state = _apply_theirs_values(loader, state, (ours.schema, ours_ids), theirs, theirs_ids, base, other)
    if len(other.added):
        at = positions(theirs_ids, other.added)
        arrays = {c.id: theirs.take(loader, c, at) for c in schema if theirs.schema.by_id(c.id) is not None}
        arrays[ROWID] = theirs.take(loader, ROWID, at)
        state = state.appended(arrays, len(at))
    co.set_state(state)
    co.merge_parents = [theirs_id]
    return ds.commit(message or f"merge {name}")


def _check_conflicts(loader: ColumnLoader, ours: State, theirs: State, mine: Changes, other: Changes) -> None:
    both = np.intersect1d(mine.changed, other.changed)
    if len(both):
        # the same edit on both sides is not a conflict
        sub_ours, sub_theirs = _subset(loader, ours, both), _subset(loader, theirs, both)
        both = changed_rows(loader, sub_ours, sub_theirs, both)
    bad = np.union1d(both, np.union1d(np.intersect1d(mine.changed, other.removed),
                                      np.intersect1d(mine.removed, other.changed)))
    if len(bad):
        ours_ids = rowids(loader, ours)
        present = bad[np.isin(bad, ours_ids)]
        rows = sorted(positions(ours_ids, present).tolist()) if len(present) else []
        raise MergeConflict(
            f"{len(bad)} row(s) were changed on both branches (or changed on one and removed on the other); "
            "the merge was not applied",
            rows=rows or bad.tolist(),
        )


def _subset(loader: ColumnLoader, state: State, ids: np.ndarray) -> State:
    at = positions(rowids(loader, state), ids)
    arrays = {c.id: state.take(loader, c, at) for c in state.schema}
    arrays[ROWID] = state.take(loader, ROWID, at)
    return State.of(state.schema, []).appended(arrays, len(at))


def _apply_theirs_values(
    loader: ColumnLoader,
    state: State,
    ours: tuple[Schema, np.ndarray],
    theirs: State,
    theirs_ids: np.ndarray,
    base: State,
    other: Changes,
) -> State:
    """Copy theirs' values for rows they changed, and for every shared row in columns they added."""
    ours_schema, ours_ids = ours
    for column in state.schema:
        if theirs.schema.by_id(column.id) is None:
            continue
        added_by_theirs = base.schema.by_id(column.id) is None and ours_schema.by_id(column.id) is None
        if added_by_theirs:
            ids = np.intersect1d(ours_ids, theirs_ids)
        else:
            ids = other.changed[np.isin(other.changed, ours_ids)]
        if not len(ids):
            continue
        values = theirs.take(loader, column, positions(theirs_ids, ids))
        state = state.updated(loader, column, positions(ours_ids, ids), values)
    return state


def diff(ds: Dataset, a: str | None, b: str | None) -> QueryView:
    """Rows added, removed and changed going from ``a`` to ``b`` as a query view.

    Columns: ``change`` ('added', 'removed', 'changed'), ``row`` (index in ``b``, or
    in ``a`` for removed rows), ``_rowid``, then the columns of ``b``.
    """
    co = ds.checked_out
    loader = co.loader
    old = co.base if a is None else co.manifest_state(a)[1]
    new = co.state if b is None else co.manifest_state(b)[1]
    delta = changes(loader, old, new)
    old_ids, new_ids = rowids(loader, old), rowids(loader, new)
    parts = []
    for label, state, ids, all_ids in (
        ("added", new, delta.added, new_ids),
        ("removed", old, delta.removed, old_ids),
        ("changed", new, delta.changed, new_ids),
    ):
        at = np.sort(positions(all_ids, ids)) if len(ids) else np.zeros(0, dtype=np.int64)
        columns: dict[str, pa.Array] = {
            "change": pa.array([label] * len(at), pa.string()),
            "row": pa.array(at, pa.int64()),
            ROWID: state.take(loader, ROWID, at) if len(at) else pa.array([], pa.int64()),
        }
        for column in new.schema:
            if column.name in state.schema:
                columns[column.name] = state.take(loader, state.schema[column.name], at).cast(column.type.arrow)
            else:
                columns[column.name] = pa.nulls(len(at), column.type.arrow)
        parts.append(pa.table(columns))
    table = pa.concat_tables(parts)
    con = connect()
    con.register("diff", table)
    return QueryView(con, "SELECT * FROM diff", {})
