import { formatAge, formatBytes, shortKey, usageFraction } from '../format';
import type { ITierPage, ITopologyNode } from '../model';
import { BusyIdleRefresher } from '../refresh';
import { findNode, pageText, producerText, renderEntries, renderTopology, usageText } from '../render';

const KEY_A = 'a'.repeat(64);
const KEY_B = 'b'.repeat(64);

function leaf(id: string, kind: string, url: string, bytes: number, entries: number, capacity: number | null = null) {
  return {
    id,
    kind,
    url,
    writable: true,
    listable: true,
    process_local: kind === 'memory',
    usage: { bytes, entries, capacity },
    children: []
  } as ITopologyNode;
}

const LAKE: ITopologyNode = {
  id: '0',
  kind: 'levels',
  url: 'levels(/lake/fast, /lake/slow)',
  writable: true,
  listable: true,
  process_local: false,
  usage: { bytes: 3072, entries: 3, capacity: null },
  children: [
    { ...leaf('0.0', 'disk', '/lake/fast', 1024, 1, 4096), level: { write: true, replicate: true, name: 'fast' } },
    { ...leaf('0.1', 'memory', 'memory://', 0, 0), writable: false, usage: null, usage_error: 'boom' }
  ]
};

describe('format', () => {
  it('formats bytes with binary units', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(1536)).toBe('1.50 KiB');
    expect(formatBytes(200 * 1024 * 1024)).toBe('200 MiB');
    expect(formatBytes(-1)).toBe('?');
  });

  it('formats ages relative to now', () => {
    const now = 1_000_000_000;
    expect(formatAge(now / 1000 - 5, now)).toBe('5 s ago');
    expect(formatAge(now / 1000 - 7200, now)).toBe('2 h ago');
    expect(formatAge(null, now)).toBe('–');
  });

  it('computes usage fractions and short keys', () => {
    expect(usageFraction(512, 1024)).toBe(0.5);
    expect(usageFraction(5000, 1024)).toBe(1);
    expect(usageFraction(1, null)).toBeNull();
    expect(shortKey(KEY_A, 4)).toBe('aaaa…');
  });
});

describe('renderTopology', () => {
  it('renders nested tiers with ids, usage, bars and badges', () => {
    const root = renderTopology(LAKE, '0.0');
    const labels = Array.from(root.querySelectorAll<HTMLElement>('.jp-Lakelet-nodeLabel'));
    expect(labels.map(l => l.dataset.id)).toEqual(['0', '0.0', '0.1']);
    expect(labels[1].classList.contains('jp-mod-selected')).toBe(true);
    expect(labels[1].querySelector('.jp-Lakelet-nodeKind')!.textContent).toBe('fast (disk)');
    expect(labels[1].querySelector('.jp-Lakelet-nodeUsage')!.textContent).toBe('1.00 KiB / 4.00 KiB · 1 entry');
    expect((labels[1].querySelector('.jp-Lakelet-usageFill') as HTMLElement).style.width).toBe('25.0%');
    const badges = Array.from(labels[2].querySelectorAll('.jp-Lakelet-badge')).map(b => b.textContent);
    expect(badges).toEqual(['read-only', 'per process']);
    // a memory tier's contents live in each kernel: the server's empty copy is not shown as "0 entries"
    expect(labels[2].querySelector('.jp-Lakelet-nodeUsage')!.textContent).toBe(
      "in each kernel's memory (not visible from the server)"
    );
    expect(usageText({ ...leaf('0.2', 'redis', 'redis://x', 0, 0), usage: null, usage_error: 'boom' })).toBe(
      'usage unknown: boom'
    );
  });

  it('finds nodes by id', () => {
    expect(findNode(LAKE, '0.1')!.kind).toBe('memory');
    expect(findNode(LAKE, '0.7')).toBeNull();
    expect(usageText(LAKE)).toBe('3.00 KiB · 3 entries');
  });
});

describe('renderEntries', () => {
  const page: ITierPage = {
    id: '0.0',
    kind: 'disk',
    url: '/lake/fast',
    total: 120,
    offset: 50,
    limit: 50,
    sort: 'size',
    order: 'asc',
    filter: '',
    entries: [
      {
        key: KEY_A,
        size: 2048,
        last_access: null,
        created: null,
        producer: { kind: 'function', name: 'demo.train', role: 'value', variable: 'result' }
      },
      { key: KEY_B, size: 10, last_access: null, created: null, producer: null }
    ]
  };

  it('renders rows with keys, sizes, producers and evict buttons', () => {
    const table = renderEntries(page);
    const rows = Array.from(table.querySelectorAll<HTMLElement>('.jp-Lakelet-entry'));
    expect(rows.map(r => r.dataset.key)).toEqual([KEY_A, KEY_B]);
    expect(rows[0].cells[1].textContent).toBe('2.00 KiB');
    expect(rows[0].querySelector<HTMLElement>('[data-producer]')!.dataset.producer).toBe('demo.train');
    expect(rows[1].querySelector('[data-producer]')).toBeNull();
    expect(rows[1].querySelector<HTMLElement>('[data-evict]')!.dataset.evict).toBe(KEY_B);
    const sorted = table.querySelector<HTMLElement>('th.jp-mod-sorted')!;
    expect(sorted.dataset.sort).toBe('size');
    expect(sorted.textContent).toBe('size ▲');
  });

  it('lists the values of a cache entry under a line for that entry', () => {
    const ENTRY = 'e'.repeat(64);
    const grouped: ITierPage = {
      ...page,
      entries: [
        {
          key: KEY_A,
          size: 2048,
          last_access: null,
          created: null,
          group: ENTRY,
          producer: { kind: 'cell', name: 'load', role: 'value', variable: 'df', entry: ENTRY }
        },
        { key: KEY_B, size: 10, last_access: null, created: null, group: KEY_B, producer: null }
      ],
      groups: {
        [ENTRY]: { entry: ENTRY, kind: 'cell', name: 'load', created: 1000, size: 2048, count: 1, last_access: null },
        [KEY_B]: { entry: null, kind: null, name: null, created: null, size: 10, count: 1, last_access: null }
      }
    };
    const table = renderEntries(grouped, 1000 * 1000 + 120_000);
    const rows = Array.from(table.tBodies[0].rows);
    expect(rows.map(r => r.className)).toEqual([
      'jp-Lakelet-entryHead',
      'jp-Lakelet-entry jp-mod-underEntry',
      'jp-Lakelet-entry'
    ]);
    expect(rows[0].textContent).toBe('cell load · computed 2 min ago · 2.00 KiB in 1 value');
    expect(rows[0].querySelector<HTMLElement>('[data-producer]')!.dataset.producer).toBe('load');
    expect(rows[1].querySelector('.jp-Lakelet-variable')!.textContent).toBe('→ df');
    expect(rows[2].querySelector('[data-producer]')).toBeNull(); // a value of no known entry: no line above
  });

  it('describes producers and pages', () => {
    expect(producerText(page.entries[0])).toBe('fn demo.train');
    expect(
      producerText({ ...page.entries[0], producer: { kind: 'cell', name: 'load', role: 'value', variable: 'df' } })
    ).toBe('cell load → df');
    expect(pageText(page)).toBe('51–52 of 120');
    expect(pageText({ ...page, total: 0, entries: [], filter: 'zz' })).toBe('no entries match "zz"');
  });
});

describe('BusyIdleRefresher', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('refreshes once after busy -> idle, debounced', () => {
    const refresh = jest.fn();
    const r = new BusyIdleRefresher({ refresh, pollInterval: 0, debounce: 100 });
    r.update('nb1', 'idle');
    jest.advanceTimersByTime(1000);
    expect(refresh).not.toHaveBeenCalled(); // idle without a busy phase is no news
    r.update('nb1', 'busy');
    r.update('nb1', 'idle');
    r.update('nb1', 'busy');
    r.update('nb1', 'idle');
    jest.advanceTimersByTime(99);
    expect(refresh).not.toHaveBeenCalled();
    jest.advanceTimersByTime(1);
    expect(refresh).toHaveBeenCalledTimes(1);
  });

  it('polls while any kernel is busy and stops when all are idle', () => {
    const refresh = jest.fn();
    const r = new BusyIdleRefresher({ refresh, pollInterval: 1000, debounce: 10 });
    r.update('a', 'busy');
    r.update('b', 'busy');
    expect(r.busy).toBe(2);
    jest.advanceTimersByTime(3000);
    expect(refresh).toHaveBeenCalledTimes(3);
    r.update('a', 'idle');
    jest.advanceTimersByTime(1000);
    expect(refresh).toHaveBeenCalledTimes(5); // one poll + the idle refresh of 'a'
    r.remove('b');
    jest.advanceTimersByTime(5000);
    expect(refresh).toHaveBeenCalledTimes(5);
    r.dispose();
  });
});
