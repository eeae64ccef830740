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
  level?: { write: boolean; replicate: boolean; name: string | null };
  max_size?: number | null;
  children: ITopologyNode[];
}

export interface ITopologyReply {
  api: number;
  home: string;
  lake: ITopologyNode;
}

export interface IProducer {
  kind: 'function' | 'cell' | string;
  name: string;
  role: 'entry' | 'value' | string;
  variable?: string;
  created?: number;
}

export interface IEntry {
  key: string;
  size: number;
  last_access: number | null;
  created: number | null;
  producer: IProducer | null;
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
}

export interface IEvictReply {
  id: string;
  removed: number;
  bytes: number;
}

export interface IClearReply extends IEvictReply {
  kept: number;
}
