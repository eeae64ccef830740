/**
 * Pure DOM rendering of the topology tree and of a tier's page of entries.
 * No JupyterLab imports, so jest tests it directly in jsdom.
 */
import { formatAge, formatAgeShort, formatBytes, shortKey, usageFraction } from './format';
import type { IEntry, ITierGroup, ITierPage, ITopologyNode, SortField } from './model';

/** A one-line label of a location: its level name or kind. */
export function nodeTitle(node: ITopologyNode): string {
  const name = node.level?.name;
  return name ? `${name} (${node.kind})` : node.kind;
}

/** Usage text of a node: `"1.5 KiB · 3 entries"`, with the capacity when bounded. */
export function usageText(node: ITopologyNode): string {
  if (node.process_local) {
    // the server's own copy of a memory tier is always empty: the values live in each kernel
    return "in each kernel's memory (not visible from the server)";
  }
  if (node.usage === null) {
    return node.usage_error ? `usage unknown: ${node.usage_error}` : '';
  }
  const { bytes, entries, capacity } = node.usage;
  const size = capacity === null ? formatBytes(bytes) : `${formatBytes(bytes)} / ${formatBytes(capacity)}`;
  return `${size} · ${entries} ${entries === 1 ? 'entry' : 'entries'}`;
}

/**
 * The tree of `node` as nested `<li>`s. Each node's label carries `data-id`;
 * the panel listens for clicks on `.jp-Lakelet-nodeLabel`.
 */
export function renderTopology(node: ITopologyNode, selected: string | null = null): HTMLLIElement {
  const li = document.createElement('li');
  li.className = 'jp-Lakelet-node';
  li.dataset.id = node.id;
  li.dataset.kind = node.kind;

  const label = document.createElement('div');
  label.className = 'jp-Lakelet-nodeLabel';
  label.dataset.id = node.id;
  label.tabIndex = 0;
  label.setAttribute('role', 'treeitem');
  if (node.id === selected) {
    label.classList.add('jp-mod-selected');
  }
  label.title = node.url;

  const title = document.createElement('span');
  title.className = 'jp-Lakelet-nodeKind';
  title.textContent = nodeTitle(node);
  label.appendChild(title);

  const flags: string[] = [];
  if (!node.writable) {
    flags.push('read-only');
  }
  if (node.level && !node.level.write) {
    flags.push('cache');
  }
  if (node.process_local) {
    flags.push('per process');
  }
  if (node.hung) {
    flags.push('not answering');
    li.classList.add('jp-mod-hung');
  }
  for (const flag of flags) {
    const badge = document.createElement('span');
    badge.className = 'jp-Lakelet-badge';
    badge.textContent = flag;
    if (flag === 'per process') {
      badge.title = "memory tiers live in each process: the server cannot see the kernel's";
    }
    if (flag === 'not answering') {
      badge.classList.add('jp-mod-error');
      badge.title = node.usage_error ?? '';
    }
    label.appendChild(badge);
  }

  const url = document.createElement('div');
  url.className = 'jp-Lakelet-nodeUrl';
  url.textContent = node.children.length ? '' : node.url;
  url.title = node.url;
  label.appendChild(url);

  const usage = document.createElement('div');
  usage.className = 'jp-Lakelet-nodeUsage';
  usage.textContent = usageText(node);
  usage.title = usage.textContent;
  label.appendChild(usage);

  const fraction = node.usage ? usageFraction(node.usage.bytes, node.usage.capacity) : null;
  if (fraction !== null) {
    const bar = document.createElement('div');
    bar.className = 'jp-Lakelet-usageBar';
    const fill = document.createElement('div');
    fill.className = 'jp-Lakelet-usageFill';
    fill.style.width = `${(fraction * 100).toFixed(1)}%`;
    bar.appendChild(fill);
    label.appendChild(bar);
  }
  li.appendChild(label);

  if (node.children.length) {
    const ul = document.createElement('ul');
    ul.className = 'jp-Lakelet-children';
    ul.setAttribute('role', 'group');
    for (const child of node.children) {
      ul.appendChild(renderTopology(child, selected));
    }
    li.appendChild(ul);
  }
  return li;
}

/** Find a node of a tree by id. */
export function findNode(node: ITopologyNode, id: string): ITopologyNode | null {
  if (node.id === id) {
    return node;
  }
  for (const child of node.children) {
    const found = findNode(child, id);
    if (found) {
      return found;
    }
  }
  return null;
}

/** The producer column of a row: "cell my_cell" / "fn pkg.train → result". */
export function producerText(entry: IEntry): string {
  const p = entry.producer;
  if (!p) {
    return '';
  }
  const kind = p.kind === 'function' ? 'fn' : p.kind;
  const what = p.role === 'entry' ? ' (entry)' : p.variable && p.variable !== 'result' ? ` → ${p.variable}` : '';
  return `${kind} ${p.name}${what}`;
}

const COLUMNS: { field: SortField | null; label: string; title: string }[] = [
  { field: 'key', label: 'key', title: 'storage key, and the cached function or cell that made the value' },
  { field: 'size', label: 'size', title: 'size' },
  { field: 'last_access', label: 'used', title: 'last access' },
  { field: null, label: '', title: '' }
];

/**
 * A table of one page of entries. Sortable headers carry `data-sort`, evict
 * buttons `data-evict` (the key) and producer cells `data-producer` (the name).
 */
export function renderEntries(page: ITierPage, now: number = Date.now()): HTMLTableElement {
  const table = document.createElement('table');
  table.className = 'jp-Lakelet-entries';
  const head = table.createTHead().insertRow();
  for (const column of COLUMNS) {
    const th = document.createElement('th');
    th.textContent = column.label;
    th.title = column.title;
    if (column.field) {
      th.dataset.sort = column.field;
      th.classList.add('jp-Lakelet-sortable');
      if (column.field === page.sort) {
        th.classList.add('jp-mod-sorted');
        th.textContent += page.order === 'asc' ? ' ▲' : ' ▼';
      }
    }
    head.appendChild(th);
  }
  const body = table.createTBody();
  let current: string | undefined = undefined;
  for (const entry of page.entries) {
    const group = entry.group !== undefined ? page.groups?.[entry.group] : undefined;
    if (group && entry.group !== current && group.entry !== null) {
      body.appendChild(renderEntryHead(group, now));
    }
    current = entry.group;
    const underEntry = group !== undefined && group.entry !== null;
    const row = body.insertRow();
    row.className = underEntry ? 'jp-Lakelet-entry jp-mod-underEntry' : 'jp-Lakelet-entry';
    row.dataset.key = entry.key;
    // the producer ("made by") goes on a second line under the key, so it fits at ~250 px
    const key = row.insertCell();
    const keyText = document.createElement('div');
    keyText.className = 'jp-Lakelet-key';
    keyText.textContent = shortKey(entry.key, 10);
    keyText.title = entry.key;
    key.appendChild(keyText);
    row.insertCell().textContent = formatBytes(entry.size);
    const used = row.insertCell();
    used.textContent = formatAgeShort(entry.last_access, now);
    used.title = `last access ${formatAge(entry.last_access, now)}`;
    if (entry.producer && underEntry) {
      const variable = document.createElement('div');
      variable.className = 'jp-Lakelet-variable';
      variable.textContent = `→ ${entry.producer.variable ?? entry.producer.role}`;
      variable.title = `the value "${entry.producer.variable ?? entry.producer.role}" of the entry above`;
      key.appendChild(variable);
    } else if (entry.producer) {
      const producer = document.createElement('div');
      producer.className = 'jp-Lakelet-producer';
      producer.textContent = producerText(entry);
      producer.dataset.producer = entry.producer.name;
      producer.title = `made by ${entry.producer.kind} ${entry.producer.name}: click to show only its entries`;
      key.appendChild(producer);
    }
    const actions = row.insertCell();
    const evict = document.createElement('button');
    evict.className = 'jp-Lakelet-evict jp-mod-styled';
    evict.dataset.evict = entry.key;
    evict.title = 'evict this entry from this tier';
    evict.textContent = '✕';
    actions.appendChild(evict);
  }
  return table;
}

/**
 * The line of a cache entry above its values: "fn demo.train · 2 min ago · 1.5 MiB in 2 values".
 * Clicking the name shows only that function's or cell's values (`data-producer`).
 */
export function renderEntryHead(group: ITierGroup, now: number = Date.now()): HTMLTableRowElement {
  const row = document.createElement('tr');
  row.className = 'jp-Lakelet-entryHead';
  row.dataset.entry = group.entry ?? '';
  const cell = row.insertCell();
  cell.colSpan = COLUMNS.length;
  const name = document.createElement('span');
  name.className = 'jp-Lakelet-producer';
  name.dataset.producer = group.name ?? '';
  name.textContent = `${group.kind === 'function' ? 'fn' : group.kind} ${group.name}`;
  name.title = `cache entry ${group.entry} of ${group.kind} ${group.name}: click to show only its values`;
  const stats = document.createElement('span');
  stats.className = 'jp-Lakelet-entryStats';
  const values = `${group.count} ${group.count === 1 ? 'value' : 'values'}`;
  stats.textContent = ` · computed ${formatAge(group.created, now)} · ${formatBytes(group.size)} in ${values}`;
  cell.append(name, stats);
  return row;
}

/** "1–50 of 120" for the pager. */
export function pageText(page: ITierPage): string {
  if (page.total === 0) {
    return page.filter ? `no entries match "${page.filter}"` : 'no entries';
  }
  const last = Math.min(page.offset + page.entries.length, page.total);
  return `${page.offset + 1}–${last} of ${page.total}`;
}
