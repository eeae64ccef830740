/**
 * The JSON shapes the lakelet server extension returns (see lakelet/jupyter/topology.py).
 */

export interface IUsage {
  bytes: number;
  entries: number;
  capacity: number | null;
}

export interface ITopologyNode {
  id: string;
  kind: string;
  url: string;
  writable: boolean;
  listable: boolean;
  process_local: boolean;
  usage: IUsage | null;
  usage_error?: string;
  hung?: boolean;
  level?: { write: boolean; replicate: boolean; name: string | null };
  max_size?: number | null;
  children: ITopologyNode[];
}

export interface ITopologyReply {
  api: number;
  home: string;
  source: 'server' | 'kernel' | string;
  config_file: string;
  home_exists: boolean;
  lake: ITopologyNode;
}

export interface IVersionReply {
  version: string;
  api: number;
}

export type ObjectKind = 'volume' | 'dict' | 'queue';

export interface IPage<T> {
  total: number;
  offset: number;
  limit: number;
  items: T[];
}

export interface IObjectsPage extends IPage<{ name: string; created: number; created_by: string | null }> {
  kind: ObjectKind;
  environment: string;
  where: string;
}

export interface IVolumeItem {
  path: string;
  name: string;
  type: 'directory' | 'file' | string;
  size: number;
  mtime: number;
}

export interface IVolumePage extends IPage<IVolumeItem> {
  name: string;
  path: string;
}

export interface IDictPage extends IPage<{ key: string; value: string }> {
  name: string;
}

export interface IQueueHead {
  name: string;
  length: number;
  total: number;
  head: string[];
}

export interface IDatasetsPage extends IPage<{ name: string; path: string }> {
  roots: string[];
}

export interface IDatasetVersion {
  id: string;
  message: string;
  time: number;
  rows: number;
  tags: string[];
}

export interface IDatasetSummary {
  path: string;
  name: string;
  rows: number;
  version: string;
  branch: string | null;
  branches: string[];
  schema: { name: string; type: string; indexes?: string[] }[];
  total: number;
  versions: IDatasetVersion[];
}

export interface ICacheGroup {
  kind: 'function' | 'cell' | string;
  name: string;
  entries: number;
  hits: number;
  misses: number;
  compute_seconds: number | null;
  time_saved: number;
  size: number;
  computed: number | null;
  last_used: number | null;
  arguments: string;
  why: string;
  address: string | null;
  source_head: string;
}

export interface ICachePage extends IPage<ICacheGroup> {
  totals: { hits: number; misses: number; time_saved: number; size: number };
  journal: string;
}

export interface ICacheGroupDetail extends ICacheGroup {
  history: {
    address: string;
    computed: number;
    compute_seconds: number;
    size: number;
    arguments: string;
    why: string;
  }[];
  preview: string;
}

export interface IProducer {
  kind: 'function' | 'cell' | string;
  name: string;
  role: 'entry' | 'value' | string;
  variable?: string;
  created?: number;
  /** for a value: the address of the cache entry it belongs to */
  entry?: string;
}

export interface IEntry {
  key: string;
  size: number;
  last_access: number | null;
  created: number | null;
  producer: IProducer | null;
  /** the cache entry this value belongs to (its address), or its own key when none is known */
  group?: string;
}

/** A cache entry (function call or cell) whose values a grouped tier page lists under it. */
export interface ITierGroup {
  entry: string | null;
  kind: string | null;
  name: string | null;
  created: number | null;
  size: number;
  count: number;
  last_access: number | null;
}

export type SortField = 'key' | 'size' | 'last_access';

export interface ITierQuery {
  offset: number;
  limit: number;
  sort: SortField;
  order: 'asc' | 'desc';
  filter: string;
}

export interface ITierPage extends ITierQuery {
  id: string;
  kind: string;
  url: string;
  total: number;
  entries: IEntry[];
  /** present when the page is grouped by cache entry (the sidebar always asks so) */
  groups?: Record<string, ITierGroup>;
}

export interface IEvictReply {
  id: string;
  removed: number;
  bytes: number;
}

export interface IClearReply extends IEvictReply {
  kept: number;
}
