/**
 * The sidebar panel: the lake's topology tree on top, the selected tier's
 * entries (paged, sortable, filterable, with evict/clear) below.
 */
import { Dialog, showDialog } from '@jupyterlab/apputils';
import { refreshIcon } from '@jupyterlab/ui-components';
import { Widget } from '@lumino/widgets';

import { LakeletAPIError, LakeletClient } from './api';
import { formatBytes } from './format';
import type { ITierPage, ITierQuery, ITopologyNode, SortField } from './model';
import { findNode, pageText, renderEntries, renderTopology } from './render';
import { lakeletIcon } from './icon';
import type { ILakeletSidebar } from './tokens';

const PAGE_SIZE = 50;

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
    this.node.append(header, this._status, this._tree, this._tier);
  }

  /** Reload the topology and the open tier's page. */
  async refresh(): Promise<void> {
    const seq = ++this._seq;
    this._setStatus('loading…');
    try {
      const reply = await this._client.topology();
      if (seq !== this._seq) {
        return; // a newer refresh started meanwhile
      }
      this._topology = reply.lake;
      this._tree.replaceChildren(renderTopology(reply.lake, this._selected));
      this._home = reply.home;
      this._setStatus(`LAKELET_HOME: ${reply.home}`);
      this.node.dataset.loaded = 'true';
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
    if (this._topology === null) {
      void this.refresh();
    }
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
    this._filter.placeholder = 'filter by key or producer';
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
      await this._client.evict(id, [key]);
    } catch (error) {
      if (!(error instanceof LakeletAPIError) || error.status !== 409) {
        this._setStatus(errorText(error), true);
        return;
      }
      const answer = await showDialog({
        title: 'Delete the only copy?',
        body: `${error.message}. Deleting it from this tier loses the value.`,
        buttons: [Dialog.cancelButton(), Dialog.warnButton({ label: 'Delete' })]
      });
      if (!answer.button.accept) {
        return;
      }
      try {
        await this._client.evict(id, [key], true);
      } catch (forced) {
        this._setStatus(errorText(forced), true);
        return;
      }
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
      body: 'Evicts every entry of this tier that another tier of the lake also holds. Only copies are kept.',
      buttons: [Dialog.cancelButton(), Dialog.warnButton({ label: 'Clear' })]
    });
    if (!answer.button.accept) {
      return;
    }
    try {
      const result = await this._client.clear(id);
      await this.refresh();
      this._setStatus(
        `evicted ${result.removed} entries (${formatBytes(result.bytes)}); kept ${result.kept} only copies`
      );
    } catch (error) {
      this._setStatus(errorText(error), true);
    }
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
    }
  }

  private _client: LakeletClient;
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
