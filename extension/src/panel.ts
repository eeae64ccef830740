/**
 * The sidebar panel: the lake's topology tree on top, the selected tier's
 * entries (paged, sortable, filterable, with evict/clear) below.
 */
import { Dialog, showDialog } from '@jupyterlab/apputils';
import { refreshIcon } from '@jupyterlab/ui-components';
import { Widget } from '@lumino/widgets';

import { API_VERSION, LakeletClient, versionMismatchText } from './api';
import { formatBytes } from './format';
import type { ITierPage, ITierQuery, ITopologyNode, ObjectKind, SortField } from './model';
import {
  OBJECT_TITLES,
  renderCacheDetail,
  renderCacheGroups,
  renderDataset,
  renderDatasets,
  renderDict,
  renderObjects,
  renderQueue,
  renderVolume
} from './sections';
import { findNode, pageText, renderEntries, renderTopology } from './render';
import { lakeletIcon } from './icon';
import type { ILakeletSidebar } from './tokens';

const PAGE_SIZE = 50;
const LIST_PAGE = 25;

/** Where the sidebar's lake comes from: the active notebook kernel's LAKELET_HOME, or null (the server's). */
export interface ILakeSource {
  home: string | null;
  /** e.g. "kernel of analysis.ipynb" */
  label: string;
}

/** One collapsible section: its body and how to (re)load it. */
interface ISection {
  details: HTMLDetailsElement;
  body: HTMLDivElement;
  load: () => Promise<void>;
}

export class LakeletPanel extends Widget implements ILakeletSidebar {
  constructor(client: LakeletClient) {
    super();
    this._client = client;
    this.id = 'lakelet-sidebar';
    this.addClass('jp-Lakelet-panel');
    this.title.icon = lakeletIcon;
    this.title.caption = 'Lakelet storage';

    const header = document.createElement('div');
    header.className = 'jp-Lakelet-header';
    const heading = document.createElement('h2');
    heading.textContent = 'Lakelet storage';
    const refresh = document.createElement('button');
    refresh.className = 'jp-Lakelet-refresh jp-mod-minimal jp-Button';
    refresh.title = 'Refresh';
    refreshIcon.element({ container: refresh, elementSize: 'normal' });
    refresh.addEventListener('click', () => void this.refresh());
    header.append(heading, refresh);

    this._status = document.createElement('div');
    this._status.className = 'jp-Lakelet-status';
    this._tree = document.createElement('ul');
    this._tree.className = 'jp-Lakelet-tree';
    this._tree.setAttribute('role', 'tree');
    this._tree.addEventListener('click', event => this._onTreeClick(event));
    this._tree.addEventListener('keydown', event => {
      if (event.key === 'Enter') {
        this._onTreeClick(event);
      }
    });

    this._tier = this._buildTierSection();
    this._source = document.createElement('div');
    this._source.className = 'jp-Lakelet-source';
    const tiers = this._addSection('tiers', 'Cache tiers', async () => undefined);
    tiers.details.open = true;
    tiers.body.append(this._tree, this._tier);
    this.node.append(header, this._source, this._status, tiers.details);
    this._addSection('cache', 'Cached functions and cells', body => this._loadCache(body));
    for (const kind of ['volume', 'dict', 'queue'] as ObjectKind[]) {
      this._addSection(kind, OBJECT_TITLES[kind], body => this._loadObjects(kind, body));
    }
    this._addSection('datasets', 'Datasets', body => this._loadDatasets(body));
  }

  /** Called before each refresh: which lake to show (the active notebook kernel's, or the server's). */
  lakeSource: (() => Promise<ILakeSource>) | null = null;

  /** Called by "Show the cell": scroll the open notebook to the producer; false if not found. */
  jumpToProducer: ((kind: string, name: string) => boolean) | null = null;

  /** Reload the topology and the open tier's page. */
  async refresh(): Promise<void> {
    const seq = ++this._seq;
    this._setStatus('loading…');
    try {
      if (!this._versionChecked) {
        const version = await this._client.version();
        if (version.api !== API_VERSION) {
          this._setStatus(versionMismatchText(version.api), true);
          this.node.dataset.mismatch = 'true';
          return;
        }
        this._versionChecked = true;
      }
      let label = "Server's lake";
      if (this.lakeSource) {
        const source = await this.lakeSource();
        this._client.home = source.home;
        label = source.label;
      }
      const reply = await this._client.topology();
      if (seq !== this._seq) {
        return; // a newer refresh started meanwhile
      }
      this._topology = reply.lake;
      this._tree.replaceChildren(renderTopology(reply.lake, this._selected));
      this._home = reply.home;
      this._source.textContent = label;
      this._source.title = `LAKELET_HOME: ${reply.home}\nconfig: ${reply.config_file}`;
      this._source.dataset.source = reply.source;
      if (reply.home_exists === false) {
        this._setStatus(
          `LAKELET_HOME ${reply.home} does not exist (deleted?): nothing is stored there now; ` +
            'it is made again by the next write',
          true
        );
      } else {
        this._setStatus('');
      }
      this.node.dataset.loaded = 'true';
      for (const section of this._sections.values()) {
        if (section.details.open) {
          void section.load();
        }
      }
      if (this._selected !== null) {
        if (findNode(reply.lake, this._selected)) {
          await this._loadPage();
        } else {
          this._closeTier();
        }
      }
    } catch (error) {
      this._setStatus(errorText(error), true);
    }
  }

  /** Open the tier with node id `id`. */
  async showTier(id: string): Promise<void> {
    if (this._topology === null) {
      await this.refresh();
    }
    const node = this._topology ? findNode(this._topology, id) : null;
    if (!node) {
      this._setStatus(`no tier ${id} in the lake`, true);
      return;
    }
    this._selected = id;
    this._query = { ...this._query, offset: 0 };
    for (const label of this._tree.querySelectorAll('.jp-Lakelet-nodeLabel')) {
      label.classList.toggle('jp-mod-selected', (label as HTMLElement).dataset.id === id);
    }
    this._tierTitle.textContent = `${node.level?.name ?? node.kind}: ${node.url}`;
    this._tierTitle.title = this._tierTitle.textContent;
    this._tier.hidden = false;
    if (!node.listable) {
      this._tier.dataset.id = id;
      this._table.replaceChildren(message(`${node.url} cannot list its keys`));
      this._pager.textContent = '';
      return;
    }
    await this._loadPage();
  }

  protected onAfterAttach(): void {
    if (this._topology === null && this.isVisible) {
      void this.refresh();
    }
  }

  /** Showing the sidebar refreshes it: the active notebook (and its lake) may have changed meanwhile. */
  protected onAfterShow(): void {
    void this.refresh();
  }

  private async _loadPage(): Promise<void> {
    const id = this._selected;
    if (id === null) {
      return;
    }
    const seq = ++this._pageSeq;
    delete this._tier.dataset.loaded;
    try {
      const page = await this._client.tier(id, this._query);
      if (seq !== this._pageSeq) {
        return;
      }
      this._page = page;
      this._table.replaceChildren(renderEntries(page));
      this._pager.textContent = pageText(page);
      this._prev.disabled = page.offset === 0;
      this._next.disabled = page.offset + page.entries.length >= page.total;
      this._tier.dataset.id = id;
      this._tier.dataset.loaded = 'true';
    } catch (error) {
      this._table.replaceChildren(message(errorText(error), true));
      this._pager.textContent = '';
    }
  }

  private _buildTierSection(): HTMLDivElement {
    const section = document.createElement('div');
    section.className = 'jp-Lakelet-tier';
    section.hidden = true;

    const top = document.createElement('div');
    top.className = 'jp-Lakelet-tierHeader';
    this._tierTitle = document.createElement('div');
    this._tierTitle.className = 'jp-Lakelet-tierTitle';
    const close = document.createElement('button');
    close.className = 'jp-Lakelet-close jp-mod-minimal jp-Button';
    close.textContent = '×';
    close.title = 'Close';
    close.addEventListener('click', () => this._closeTier());
    top.append(this._tierTitle, close);

    const controls = document.createElement('div');
    controls.className = 'jp-Lakelet-controls';
    this._filter = document.createElement('input');
    this._filter.className = 'jp-Lakelet-filter jp-mod-styled';
    this._filter.type = 'search';
    this._filter.placeholder = 'filter';
    this._filter.title = 'Show only entries whose key or producer contains this text';
    this._filter.addEventListener('input', () => {
      if (this._filterTimer !== null) {
        clearTimeout(this._filterTimer);
      }
      this._filterTimer = setTimeout(() => this._setFilter(this._filter.value), 300);
    });
    const clear = document.createElement('button');
    clear.className = 'jp-Lakelet-clear jp-mod-styled';
    clear.textContent = 'Clear tier';
    clear.title = 'Evict every entry of this tier that another tier also holds';
    clear.addEventListener('click', () => void this._clearTier());
    controls.append(this._filter, clear);

    this._table = document.createElement('div');
    this._table.className = 'jp-Lakelet-tableBox';
    this._table.addEventListener('click', event => this._onTableClick(event));

    const pager = document.createElement('div');
    pager.className = 'jp-Lakelet-pager';
    this._prev = document.createElement('button');
    this._prev.className = 'jp-mod-styled';
    this._prev.textContent = '‹';
    this._prev.title = 'Previous page';
    this._prev.addEventListener('click', () => this._turn(-1));
    this._next = document.createElement('button');
    this._next.className = 'jp-mod-styled';
    this._next.textContent = '›';
    this._next.title = 'Next page';
    this._next.addEventListener('click', () => this._turn(1));
    this._pager = document.createElement('span');
    this._pager.className = 'jp-Lakelet-pageText';
    pager.append(this._prev, this._pager, this._next);

    section.append(top, controls, this._table, pager);
    return section;
  }

  private _onTreeClick(event: Event): void {
    const label = (event.target as HTMLElement).closest('.jp-Lakelet-nodeLabel') as HTMLElement | null;
    if (label?.dataset.id) {
      void this.showTier(label.dataset.id);
    }
  }

  private _onTableClick(event: Event): void {
    const target = event.target as HTMLElement;
    const sort = target.closest('[data-sort]') as HTMLElement | null;
    if (sort) {
      const field = sort.dataset.sort as SortField;
      const order = this._query.sort === field && this._query.order === 'desc' ? 'asc' : 'desc';
      this._query = { ...this._query, sort: field, order, offset: 0 };
      void this._loadPage();
      return;
    }
    const evict = target.closest('[data-evict]') as HTMLElement | null;
    if (evict?.dataset.evict) {
      void this._evict(evict.dataset.evict);
      return;
    }
    const producer = target.closest('[data-producer]') as HTMLElement | null;
    if (producer?.dataset.producer) {
      this._filter.value = producer.dataset.producer;
      this._setFilter(producer.dataset.producer);
    }
  }

  private _setFilter(value: string): void {
    this._query = { ...this._query, filter: value.trim(), offset: 0 };
    void this._loadPage();
  }

  private _turn(direction: number): void {
    const total = this._page?.total ?? 0;
    const offset = Math.max(0, this._query.offset + direction * this._query.limit);
    if (offset >= total && direction > 0) {
      return;
    }
    this._query = { ...this._query, offset };
    void this._loadPage();
  }

  private async _evict(key: string): Promise<void> {
    const id = this._selected;
    if (id === null) {
      return;
    }
    try {
      const check = await this._client.onlyCopies(id, [key]);
      let force = false;
      if (check.only_copies.length > 0) {
        const answer = await showDialog({
          title: 'Delete the only copy?',
          body:
            'No other tier of the lake holds this value, so deleting it here loses it for good. ' +
            'If a cached function or cell made it, the next run computes it again.',
          buttons: [Dialog.cancelButton({ label: 'Keep it' }), Dialog.warnButton({ label: 'Delete the only copy' })],
          defaultButton: 0
        });
        if (!answer.button.accept) {
          return;
        }
        force = true;
      }
      await this._client.evict(id, [key], force);
    } catch (error) {
      this._setStatus(errorText(error), true);
      return;
    }
    await this.refresh();
  }

  private async _clearTier(): Promise<void> {
    const id = this._selected;
    if (id === null) {
      return;
    }
    const answer = await showDialog({
      title: 'Clear this tier?',
      body:
        'Removes from this tier every value that another tier of the lake also holds. ' +
        'Values with no other copy stay, so nothing is lost.',
      buttons: [Dialog.cancelButton(), Dialog.warnButton({ label: 'Clear' })],
      defaultButton: 0
    });
    if (!answer.button.accept) {
      return;
    }
    try {
      const result = await this._client.clear(id);
      await this.refresh();
      this._setStatus(
        `removed ${result.removed} values (${formatBytes(result.bytes)})` +
          (result.kept ? `; kept ${result.kept} that have no other copy in the lake` : '')
      );
    } catch (error) {
      this._setStatus(errorText(error), true);
    }
  }

  private _addSection(key: string, title: string, load: (body: HTMLDivElement) => Promise<void>): ISection {
    const details = document.createElement('details');
    details.className = 'jp-Lakelet-section';
    details.dataset.section = key;
    const summary = document.createElement('summary');
    summary.textContent = title;
    const body = document.createElement('div');
    body.className = 'jp-Lakelet-sectionBody';
    details.append(summary, body);
    const section: ISection = {
      details,
      body,
      load: async () => {
        delete details.dataset.loaded;
        try {
          await load(body);
          details.dataset.loaded = 'true';
        } catch (error) {
          body.replaceChildren(message(errorText(error), true));
        }
      }
    };
    details.addEventListener('toggle', () => {
      if (details.open && this._topology !== null) {
        void section.load();
      }
    });
    this._sections.set(key, section);
    if (key !== 'tiers') {
      this.node.appendChild(details);
    }
    return section;
  }

  private async _loadCache(body: HTMLDivElement): Promise<void> {
    const page = await this._client.cache(this._cacheOffset, LIST_PAGE);
    const list = renderCacheGroups(page);
    const totals = document.createElement('div');
    totals.className = 'jp-Lakelet-detailLine';
    totals.textContent =
      `${page.totals.hits} hits · ${page.totals.misses} misses · saved ` +
      `${(page.totals.time_saved < 1 ? `${Math.round(page.totals.time_saved * 1000)} ms` : `${page.totals.time_saved.toFixed(1)} s`)}`;
    totals.title = `from the cache journal ${page.journal}`;
    list.addEventListener('click', event => void this._openGroup(event));
    list.addEventListener('keydown', event => {
      if ((event as KeyboardEvent).key === 'Enter') {
        void this._openGroup(event);
      }
    });
    // cards the user opened stay open across refreshes (a cell finishing refreshes the sidebar)
    const reopen: Promise<void>[] = [];
    for (const card of list.querySelectorAll<HTMLElement>('.jp-Lakelet-group')) {
      if (this._expanded.has(`${card.dataset.kind}\u0000${card.dataset.name}`)) {
        reopen.push(this._expandGroup(card));
      }
    }
    await Promise.all(reopen);
    body.replaceChildren(
      totals,
      list,
      this._pagerOf(page, this._cacheOffset, LIST_PAGE, offset => {
        this._cacheOffset = offset;
        void this._sections.get('cache')?.load();
      })
    );
  }

  private async _openGroup(event: Event): Promise<void> {
    const target = event.target as HTMLElement;
    const jump = target.closest('.jp-Lakelet-jump') as HTMLElement | null;
    if (jump) {
      const found = this.jumpToProducer?.(jump.dataset.kind ?? '', jump.dataset.name ?? '') ?? false;
      jump.textContent = found ? 'Shown in the notebook' : 'Not in the open notebook';
      return;
    }
    const card = target.closest('.jp-Lakelet-group') as HTMLElement | null;
    if (!card || target.closest('.jp-Lakelet-groupDetail')) {
      return;
    }
    const open = card.querySelector('.jp-Lakelet-groupDetail');
    if (open) {
      open.remove();
      card.classList.remove('jp-mod-expanded');
      this._expanded.delete(`${card.dataset.kind}\u0000${card.dataset.name}`);
      return;
    }
    await this._expandGroup(card);
  }

  private async _expandGroup(card: HTMLElement): Promise<void> {
    const key = `${card.dataset.kind}\u0000${card.dataset.name}`;
    this._expanded.add(key);
    card.classList.add('jp-mod-expanded');
    try {
      const detail = await this._client.cacheGroup(card.dataset.kind ?? 'function', card.dataset.name ?? '');
      card.querySelector('.jp-Lakelet-groupDetail')?.remove();
      card.appendChild(renderCacheDetail(detail));
    } catch (error) {
      card.appendChild(message(errorText(error), true));
    }
  }

  private async _loadObjects(kind: ObjectKind, body: HTMLDivElement): Promise<void> {
    const page = await this._client.objects(kind, 0, 200);
    const list = renderObjects(page);
    const detail = document.createElement('div');
    detail.className = 'jp-Lakelet-objectDetail';
    list.addEventListener('click', event => {
      const item = (event.target as HTMLElement).closest('.jp-Lakelet-object') as HTMLElement | null;
      if (item?.dataset.name) {
        selectObject(list, item);
        void this._showObject(kind, item.dataset.name, '/', 0, detail);
      }
    });
    body.replaceChildren(list, detail);
    // a refresh (a cell finished, the notebook changed) keeps the object and folder the user opened
    const view = this._objectViews.get(kind);
    const item = view ? list.querySelector(`.jp-Lakelet-object[data-name="${CSS.escape(view.name)}"]`) : null;
    if (view && item) {
      selectObject(list, item as HTMLElement);
      await this._showObject(kind, view.name, view.path, view.offset, detail);
    }
  }

  private async _showObject(
    kind: ObjectKind,
    name: string,
    path: string,
    offset: number,
    detail: HTMLDivElement
  ): Promise<void> {
    const stale = this._newRequest(detail);
    this._objectViews.set(kind, { name, path, offset });
    try {
      if (kind === 'volume') {
        const page = await this._client.volume(name, path, offset, 100);
        if (stale()) {
          return;
        }
        const crumbs = document.createElement('div');
        crumbs.className = 'jp-Lakelet-detailLine jp-Lakelet-ellipsis';
        crumbs.textContent = `${name}:${page.path}`;
        crumbs.title = crumbs.textContent;
        const table = renderVolume(page);
        table.addEventListener('click', event => {
          const row = (event.target as HTMLElement).closest('.jp-Lakelet-volItem') as HTMLElement | null;
          if (row?.dataset.type === 'directory' && row.dataset.path) {
            void this._showObject(kind, name, row.dataset.path, 0, detail);
          }
        });
        detail.replaceChildren(
          crumbs,
          table,
          this._pagerOf(page, offset, 100, next => void this._showObject(kind, name, path, next, detail))
        );
      } else if (kind === 'dict') {
        const page = await this._client.dict(name, offset, LIST_PAGE);
        if (stale()) {
          return;
        }
        detail.replaceChildren(
          renderDict(page),
          this._pagerOf(page, offset, LIST_PAGE, next => void this._showObject(kind, name, path, next, detail))
        );
      } else {
        const queue = await this._client.queue(name, 10);
        if (stale()) {
          return;
        }
        detail.replaceChildren(renderQueue(queue));
      }
      detail.dataset.loaded = 'true';
      detail.dataset.name = name;
    } catch (error) {
      if (!stale()) {
        detail.replaceChildren(message(errorText(error), true));
      }
    }
  }

  private async _loadDatasets(body: HTMLDivElement): Promise<void> {
    const page = await this._client.datasets(0, 200);
    const list = renderDatasets(page);
    const detail = document.createElement('div');
    detail.className = 'jp-Lakelet-objectDetail';
    const show = async (item: HTMLElement): Promise<void> => {
      selectObject(list, item);
      const path = item.dataset.path ?? '';
      this._datasetView = path;
      const stale = this._newRequest(detail);
      try {
        const reply = await this._client.dataset(path, 0, 10);
        if (!stale()) {
          detail.replaceChildren(renderDataset(reply));
          detail.dataset.loaded = 'true';
        }
      } catch (error) {
        if (!stale()) {
          detail.replaceChildren(message(errorText(error), true));
        }
      }
    };
    list.addEventListener('click', event => {
      const item = (event.target as HTMLElement).closest('.jp-Lakelet-dataset') as HTMLElement | null;
      if (item?.dataset.path) {
        void show(item);
      }
    });
    body.replaceChildren(list, detail);
    const open = this._datasetView
      ? list.querySelector(`.jp-Lakelet-dataset[data-path="${CSS.escape(this._datasetView)}"]`)
      : null;
    if (open) {
      await show(open as HTMLElement); // kept across a refresh, as the objects are
    }
  }

  /** A new request for `detail` (no longer loaded); the check says whether a later one replaced it,
   *  so a slow reply never overwrites what the user asked for since. */
  private _newRequest(detail: HTMLElement): () => boolean {
    delete detail.dataset.loaded;
    const ticket = String(++this._detailSeq);
    detail.dataset.ticket = ticket;
    return () => detail.dataset.ticket !== ticket;
  }

  private _pagerOf(
    page: { total: number; offset: number },
    offset: number,
    limit: number,
    go: (offset: number) => void
  ): HTMLElement {
    const pager = document.createElement('div');
    pager.className = 'jp-Lakelet-pager';
    if (page.total <= limit && offset === 0) {
      return pager;
    }
    const prev = document.createElement('button');
    prev.className = 'jp-mod-styled';
    prev.textContent = '‹';
    prev.title = 'Previous page';
    prev.disabled = offset === 0;
    prev.addEventListener('click', () => go(Math.max(0, offset - limit)));
    const next = document.createElement('button');
    next.className = 'jp-mod-styled';
    next.textContent = '›';
    next.title = 'Next page';
    next.disabled = offset + limit >= page.total;
    next.addEventListener('click', () => go(offset + limit));
    const text = document.createElement('span');
    text.className = 'jp-Lakelet-pageText';
    text.textContent = `${offset + 1}–${Math.min(offset + limit, page.total)} of ${page.total}`;
    pager.append(prev, text, next);
    return pager;
  }

  private _closeTier(): void {
    this._selected = null;
    this._tier.hidden = true;
    delete this._tier.dataset.id;
    delete this._tier.dataset.loaded;
    for (const label of this._tree.querySelectorAll('.jp-Lakelet-nodeLabel')) {
      label.classList.remove('jp-mod-selected');
    }
  }

  private _setStatus(text: string, error = false): void {
    this._status.textContent = text;
    this._status.classList.toggle('jp-mod-error', error);
    if (!error && this._home && text === '') {
      this._status.textContent = `LAKELET_HOME: ${this._home}`;
      this._status.title = this._home;
    }
  }

  private _client: LakeletClient;
  private _source: HTMLDivElement;
  private _sections = new Map<string, ISection>();
  private _cacheOffset = 0;
  private _expanded = new Set<string>();
  /** The object (and folder, page) open in each section, reopened after a refresh. */
  private _objectViews = new Map<ObjectKind, { name: string; path: string; offset: number }>();
  private _datasetView: string | null = null;
  private _detailSeq = 0;
  private _versionChecked = false;
  private _status: HTMLDivElement;
  private _tree: HTMLUListElement;
  private _tier: HTMLDivElement;
  private _tierTitle!: HTMLDivElement;
  private _filter!: HTMLInputElement;
  private _filterTimer: ReturnType<typeof setTimeout> | null = null;
  private _table!: HTMLDivElement;
  private _pager!: HTMLSpanElement;
  private _prev!: HTMLButtonElement;
  private _next!: HTMLButtonElement;
  private _topology: ITopologyNode | null = null;
  private _home = '';
  private _selected: string | null = null;
  private _page: ITierPage | null = null;
  private _query: ITierQuery = { offset: 0, limit: PAGE_SIZE, sort: 'last_access', order: 'desc', filter: '' };
  private _seq = 0;
  private _pageSeq = 0;
}

function message(text: string, error = false): HTMLDivElement {
  const div = document.createElement('div');
  div.className = error ? 'jp-Lakelet-message jp-mod-error' : 'jp-Lakelet-message';
  div.textContent = text;
  return div;
}

function errorText(error: unknown): string {
  if (error instanceof Error) {
    return `error: ${error.message}`;
  }
  return `error: ${String(error)}`;
}

/** Mark `item` as the selected one of the objects (or datasets) in `list`. */
function selectObject(list: HTMLElement, item: HTMLElement): void {
  for (const other of list.querySelectorAll('.jp-Lakelet-object')) {
    other.classList.toggle('jp-mod-selected', other === item);
  }
}
