/**
 * The sidebar's sections next to the cache tiers: cached functions and cells (hits, misses,
 * time saved, why, preview, jump to the cell), and the environment's Volumes, Dicts, Queues
 * and Datasets. Everything is paged by the server (lakelet/lake.py); the render functions are
 * pure DOM (jest-tested), the `Sections` class wires them to the client.
 */
import { formatAge, formatBytes } from './format';
import type {
  ICacheGroup,
  ICacheGroupDetail,
  ICachePage,
  IDatasetSummary,
  IDatasetsPage,
  IDictPage,
  IObjectsPage,
  IQueueHead,
  IVolumePage,
  ObjectKind
} from './model';

/** `0.0123` -> `"12 ms"`, `75` -> `"1.3 min"`. */
export function formatSeconds(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) {
    return '–';
  }
  if (seconds < 1) {
    return `${Math.round(seconds * 1000)} ms`;
  }
  if (seconds < 60) {
    return `${seconds.toFixed(seconds < 10 ? 1 : 0)} s`;
  }
  if (seconds < 3600) {
    return `${(seconds / 60).toFixed(1)} min`;
  }
  return `${(seconds / 3600).toFixed(1)} h`;
}

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className: string,
  text = '',
  title = ''
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  node.className = className;
  if (text) {
    node.textContent = text;
  }
  if (title) {
    node.title = title;
  }
  return node;
}

/** The short name of a cached function (`pkg.mod.train` -> `train`). */
export function shortName(group: { kind: string; name: string }): string {
  if (group.kind !== 'function') {
    return group.name;
  }
  const parts = group.name.split('.');
  return parts[parts.length - 1] || group.name;
}

/** The stats line of a group: "3 hits · 2 misses · saved 150 ms". */
export function groupStats(group: ICacheGroup): string {
  const hits = `${group.hits} ${group.hits === 1 ? 'hit' : 'hits'}`;
  const misses = `${group.misses} ${group.misses === 1 ? 'miss' : 'misses'}`;
  return `${hits} · ${misses} · saved ${formatSeconds(group.time_saved)}`;
}

/** One card per cached function or cell; cards carry `data-kind` and `data-name`. */
export function renderCacheGroups(page: ICachePage, now: number = Date.now()): HTMLElement {
  const list = el('ul', 'jp-Lakelet-groups');
  if (page.items.length === 0) {
    list.appendChild(
      el('li', 'jp-Lakelet-message', 'Nothing cached yet from this LAKELET_HOME: run a @smart_cache function or a %%lake_cache cell.')
    );
    return list;
  }
  for (const group of page.items) {
    const li = el('li', 'jp-Lakelet-group');
    li.dataset.kind = group.kind;
    li.dataset.name = group.name;
    li.tabIndex = 0;
    const top = el('div', 'jp-Lakelet-groupTop');
    top.append(
      el('span', 'jp-Lakelet-groupName', shortName(group), `${group.kind} ${group.name}`),
      el('span', 'jp-Lakelet-badge', group.kind === 'function' ? 'fn' : 'cell')
    );
    li.append(
      top,
      el('div', 'jp-Lakelet-groupStats', groupStats(group)),
      el(
        'div',
        'jp-Lakelet-groupMeta',
        `${formatAge(group.computed, now)} · took ${formatSeconds(group.compute_seconds)} · ${formatBytes(group.size)}`
      )
    );
    list.appendChild(li);
  }
  return list;
}

/** The details of one group: arguments, why the last run computed, a value preview, history, jump link. */
export function renderCacheDetail(detail: ICacheGroupDetail, now: number = Date.now()): HTMLElement {
  const box = el('div', 'jp-Lakelet-groupDetail');
  if (detail.arguments) {
    box.appendChild(el('div', 'jp-Lakelet-detailLine', `key made of ${detail.arguments}`, detail.arguments));
  }
  box.appendChild(
    el('div', 'jp-Lakelet-detailLine', `${detail.entries} ${detail.entries === 1 ? 'entry' : 'entries'} stored · computed ${formatAge(detail.computed, now)}`)
  );
  box.appendChild(el('div', 'jp-Lakelet-detailHead', 'Why it last computed'));
  box.appendChild(el('pre', 'jp-Lakelet-why', detail.why || '–'));
  box.appendChild(el('div', 'jp-Lakelet-detailHead', 'Latest value'));
  box.appendChild(el('pre', 'jp-Lakelet-preview', detail.preview || '–'));
  if (detail.history.length > 1) {
    box.appendChild(el('div', 'jp-Lakelet-detailHead', `${detail.history.length} computations`));
    const list = el('ul', 'jp-Lakelet-history');
    for (const h of detail.history.slice(0, 10)) {
      list.appendChild(
        el(
          'li',
          '',
          `${formatAge(h.computed, now)} · ${formatSeconds(h.compute_seconds)} · ${formatBytes(h.size)}`,
          h.why
        )
      );
    }
    box.appendChild(list);
  }
  const jump = el('button', 'jp-Lakelet-jump jp-mod-styled', detail.kind === 'cell' ? 'Show the cell' : 'Show the definition');
  jump.dataset.kind = detail.kind;
  jump.dataset.name = detail.name;
  jump.title = 'Scroll the open notebook to the cell that produced this entry';
  box.appendChild(jump);
  return box;
}

/** Names of volumes, dicts or queues; items carry `data-name`. */
export function renderObjects(page: IObjectsPage): HTMLElement {
  const list = el('ul', 'jp-Lakelet-objects');
  if (page.items.length === 0) {
    list.appendChild(el('li', 'jp-Lakelet-message', `No ${page.kind}s in ${page.where}.`));
  }
  for (const item of page.items) {
    const li = el('li', 'jp-Lakelet-object', item.name, `${page.kind} ${item.name}, made by ${item.created_by ?? 'unknown'}`);
    li.dataset.name = item.name;
    li.tabIndex = 0;
    list.appendChild(li);
  }
  return list;
}

/** One folder of a volume: folders first (`data-type="directory"`), with an "up" row below the root. */
export function renderVolume(page: IVolumePage, now: number = Date.now()): HTMLElement {
  const table = el('table', 'jp-Lakelet-entries jp-Lakelet-fixed');
  const cols = el('colgroup', '');
  cols.append(el('col', ''), el('col', 'jp-Lakelet-col-narrow'), el('col', 'jp-Lakelet-col-narrow'));
  table.appendChild(cols);
  const body = table.createTBody();
  if (page.path !== '/') {
    const up = body.insertRow();
    up.className = 'jp-Lakelet-volItem';
    up.dataset.type = 'directory';
    up.dataset.path = page.path.split('/').slice(0, -1).join('/') || '/';
    const cell = up.insertCell();
    cell.colSpan = 3;
    cell.textContent = '.. (up)';
  }
  for (const item of page.items) {
    const row = body.insertRow();
    row.className = 'jp-Lakelet-volItem';
    row.dataset.type = item.type;
    row.dataset.path = '/' + item.path.replace(/^\/+/, '');
    const name = row.insertCell();
    name.className = 'jp-Lakelet-ellipsis';
    name.textContent = item.type === 'directory' ? `${item.name}/` : item.name;
    name.title = row.dataset.path;
    row.insertCell().textContent = item.type === 'directory' ? '' : formatBytes(item.size);
    row.insertCell().textContent = formatAge(item.mtime, now);
  }
  if (page.items.length === 0) {
    const row = body.insertRow();
    const cell = row.insertCell();
    cell.colSpan = 3;
    cell.textContent = 'empty folder';
  }
  return table;
}

/** A page of a Dict: key and value preview, both ellipsized with the full text as tooltip. */
export function renderDict(page: IDictPage): HTMLElement {
  const table = el('table', 'jp-Lakelet-entries jp-Lakelet-fixed');
  const head = table.createTHead().insertRow();
  head.append(el('th', '', 'key'), el('th', '', 'value'));
  const body = table.createTBody();
  for (const item of page.items) {
    const row = body.insertRow();
    row.className = 'jp-Lakelet-dictItem';
    for (const text of [item.key, item.value]) {
      const cell = row.insertCell();
      cell.className = 'jp-Lakelet-ellipsis jp-Lakelet-mono';
      cell.textContent = text;
      cell.title = text;
    }
  }
  return table;
}

/** A Queue's length and the oldest items. */
export function renderQueue(head: IQueueHead): HTMLElement {
  const box = el('div', 'jp-Lakelet-queue');
  const others = head.total - head.length;
  box.appendChild(
    el(
      'div',
      'jp-Lakelet-queueLength',
      `${head.length} ${head.length === 1 ? 'item' : 'items'} waiting` + (others > 0 ? ` (+${others} in other partitions)` : '')
    )
  );
  const list = el('ol', 'jp-Lakelet-queueHead');
  for (const item of head.head) {
    list.appendChild(el('li', 'jp-Lakelet-ellipsis jp-Lakelet-mono', item, item));
  }
  box.appendChild(list);
  return box;
}

/** Datasets found under the datasets folders; items carry `data-path`. */
export function renderDatasets(page: IDatasetsPage): HTMLElement {
  const list = el('ul', 'jp-Lakelet-objects');
  if (page.items.length === 0) {
    list.appendChild(el('li', 'jp-Lakelet-message', `No datasets under ${page.roots.join(', ')}.`));
  }
  for (const item of page.items) {
    const li = el('li', 'jp-Lakelet-object jp-Lakelet-dataset', item.name, item.path);
    li.dataset.path = item.path;
    li.tabIndex = 0;
    list.appendChild(li);
  }
  return list;
}

/** A dataset's schema and versions (newest first). */
export function renderDataset(summary: IDatasetSummary, now: number = Date.now()): HTMLElement {
  const box = el('div', 'jp-Lakelet-datasetDetail');
  const where = summary.branch ? `branch ${summary.branch}` : `version ${summary.version.slice(0, 12)}`;
  box.appendChild(el('div', 'jp-Lakelet-detailLine', `${summary.rows.toLocaleString()} rows · ${where}`));
  box.appendChild(el('div', 'jp-Lakelet-detailHead', 'Schema'));
  const schema = el('table', 'jp-Lakelet-entries jp-Lakelet-fixed jp-Lakelet-schema');
  const sbody = schema.createTBody();
  for (const column of summary.schema) {
    const row = sbody.insertRow();
    row.insertCell().textContent = column.name;
    const type = row.insertCell();
    type.className = 'jp-Lakelet-ellipsis jp-Lakelet-mono';
    type.textContent = column.type;
    type.title = column.type;
    const indexes = column.indexes ?? [];
    const index = row.insertCell();
    index.className = 'jp-Lakelet-ellipsis jp-Lakelet-index';
    index.textContent = indexes.length ? `index: ${indexes.join('; ')}` : '';
    index.title = index.textContent;
  }
  box.appendChild(schema);
  box.appendChild(el('div', 'jp-Lakelet-detailHead', `Versions (${summary.total})`));
  const versions = el('table', 'jp-Lakelet-entries jp-Lakelet-fixed jp-Lakelet-versions');
  const cols = el('colgroup', '');
  cols.append(el('col', ''), el('col', 'jp-Lakelet-col-narrow'), el('col', 'jp-Lakelet-col-narrow'));
  versions.appendChild(cols);
  const vbody = versions.createTBody();
  for (const v of summary.versions) {
    const row = vbody.insertRow();
    row.className = 'jp-Lakelet-version';
    const message = row.insertCell();
    message.className = 'jp-Lakelet-ellipsis';
    message.textContent = v.message + (v.tags.length ? ` [${v.tags.join(', ')}]` : '');
    message.title = `${v.id}\n${v.message}`;
    row.insertCell().textContent = `${v.rows.toLocaleString()} rows`;
    row.insertCell().textContent = formatAge(v.time, now);
  }
  box.appendChild(versions);
  return box;
}

/** What the environment sections are called in the sidebar. */
export const OBJECT_TITLES: Record<ObjectKind, string> = { volume: 'Volumes', dict: 'Dicts', queue: 'Queues' };
