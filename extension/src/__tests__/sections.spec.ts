import { findProducerCell, parsePythonString } from '../kernel';
import type { ICachePage, IDatasetSummary, IVolumePage } from '../model';
import { formatSeconds, groupStats, renderCacheGroups, renderDataset, renderVolume, shortName } from '../sections';

const GROUP = {
  kind: 'function',
  name: 'pkg.mod.train',
  entries: 2,
  hits: 3,
  misses: 1,
  compute_seconds: 2.5,
  time_saved: 7.5,
  size: 2048,
  computed: 1000,
  last_used: 1000,
  arguments: 'args: x',
  why: 'miss',
  address: 'a'.repeat(64),
  source_head: ''
};

describe('sections', () => {
  it('formats durations for people', () => {
    expect(formatSeconds(0.0123)).toBe('12 ms');
    expect(formatSeconds(2.5)).toBe('2.5 s');
    expect(formatSeconds(75)).toBe('1.3 min');
    expect(formatSeconds(null)).toBe('–');
  });

  it('renders one card per cached function or cell', () => {
    const page: ICachePage = {
      total: 1,
      offset: 0,
      limit: 25,
      items: [GROUP],
      totals: { hits: 3, misses: 1, time_saved: 7.5, size: 2048 },
      journal: '/j'
    };
    const list = renderCacheGroups(page, 1060 * 1000);
    const card = list.querySelector<HTMLElement>('.jp-Lakelet-group')!;
    expect(card.dataset.name).toBe('pkg.mod.train');
    expect(card.querySelector('.jp-Lakelet-groupName')!.textContent).toBe('train');
    expect(card.querySelector('.jp-Lakelet-groupStats')!.textContent).toBe('3 hits · 1 miss · saved 7.5 s');
    expect(card.querySelector('.jp-Lakelet-groupMeta')!.textContent).toBe('1 min ago · took 2.5 s · 2.00 KiB');
    expect(groupStats({ ...GROUP, hits: 1 })).toBe('1 hit · 1 miss · saved 7.5 s');
    expect(shortName({ kind: 'cell', name: 'load.data' })).toBe('load.data');
  });

  it('lists folders first with an up row below the root', () => {
    const page: IVolumePage = {
      total: 1,
      offset: 0,
      limit: 100,
      name: 'v',
      path: '/a/b',
      items: [{ path: 'a/b/c.txt', name: 'c.txt', type: 'file', size: 10, mtime: 0 }]
    };
    const rows = Array.from(renderVolume(page).querySelectorAll<HTMLElement>('.jp-Lakelet-volItem'));
    expect(rows.map(r => r.dataset.path)).toEqual(['/a', '/a/b/c.txt']);
  });

  it('names the search index of each column in the schema', () => {
    const summary: IDatasetSummary = {
      path: '/d',
      name: 'd',
      rows: 2,
      version: 'f'.repeat(40),
      branch: 'main',
      branches: ['main'],
      schema: [
        { name: 'emb', type: 'Embedding(128)', indexes: ['embedding, cosine'] },
        { name: 'n', type: 'Int64()' }
      ],
      total: 0,
      versions: []
    };
    const cells = Array.from(renderDataset(summary).querySelectorAll('.jp-Lakelet-index')).map(c => c.textContent);
    expect(cells).toEqual(['index: embedding, cosine', '']);
  });
});

describe('kernel', () => {
  it('parses the repr of a Python str', () => {
    expect(parsePythonString("'/home/me/.lakelet'")).toBe('/home/me/.lakelet');
    expect(parsePythonString('"it\'s"')).toBe("it's");
    expect(parsePythonString('None')).toBeNull();
  });

  it('finds the cell that produced an entry', () => {
    const cells = [
      { id: 'aaa', source: 'import x' },
      { id: 'bbb', source: '%%lake_cache totals --force\nx = 1' },
      { id: 'ccc-123', source: '@smart_cache\ndef train(x):\n    return x' }
    ];
    expect(findProducerCell(cells, 'cell', 'totals')).toBe(1);
    expect(findProducerCell(cells, 'cell', 'cell-ccc-123')).toBe(2);
    expect(findProducerCell(cells, 'function', '__main__.train')).toBe(2);
    expect(findProducerCell(cells, 'function', '__main__.missing')).toBe(-1);
  });
});

import { API_VERSION, versionMismatchText } from '../api';

describe('api', () => {
  it('explains a version mismatch to a person', () => {
    const text = versionMismatchText(API_VERSION + 1);
    expect(text).toContain(`API ${API_VERSION + 1}`);
    expect(text).toContain('restart Jupyter');
  });
});
