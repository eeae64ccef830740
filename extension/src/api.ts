/**
 * Types of lakelet's REST API (`/lakelet/api/...`) and the one request helper.
 */
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

import type {
  ICacheGroupDetail,
  ICachePage,
  IClearReply,
  IDatasetSummary,
  IDatasetsPage,
  IDictPage,
  IEvictReply,
  IObjectsPage,
  IQueueHead,
  ITierPage,
  ITierQuery,
  ITopologyReply,
  IVersionReply,
  IVolumePage,
  ObjectKind
} from './model';

/** The REST API version this frontend speaks (the server's `api` field must match). */
export const API_VERSION = 2;

/** An error reply of the lakelet API, with the server's message. */
export class LakeletAPIError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly error: string
  ) {
    super(message);
    this.name = 'LakeletAPIError';
  }
}

/**
 * Call `/lakelet/api/<endPoint>` and parse its JSON. Jupyter's token and XSRF
 * headers are added by `ServerConnection.makeRequest`.
 */
export async function requestAPI<T>(
  endPoint: string,
  settings: ServerConnection.ISettings,
  init: RequestInit = {}
): Promise<T> {
  const url = URLExt.join(settings.baseUrl, 'lakelet', 'api', endPoint);
  let response: Response;
  try {
    response = await ServerConnection.makeRequest(url, init, settings);
  } catch (error) {
    throw new ServerConnection.NetworkError(error as TypeError);
  }
  const text = await response.text();
  let data: any = null;
  if (text.length > 0) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  if (!response.ok) {
    if (response.status === 404 && (data === null || data.error === undefined)) {
      throw new LakeletAPIError(
        404,
        'the lakelet server extension is not running: install lakelet into the ' +
          'Python environment of this Jupyter server and restart it ' +
          '(`jupyter server extension list` should show lakelet.jupyter.server enabled)',
        'NotInstalled'
      );
    }
    const message = data && typeof data.message === 'string' ? data.message : response.statusText;
    throw new LakeletAPIError(response.status, message, data?.error ?? 'HTTPError');
  }
  return data as T;
}

/** Thin typed client of the lakelet REST API. */
export class LakeletClient {
  constructor(readonly settings: ServerConnection.ISettings) {}

  /**
   * The LAKELET_HOME of the active notebook's kernel, sent with every request so the
   * server shows that lake; null shows the server's own.
   */
  home: string | null = null;

  version(): Promise<IVersionReply> {
    return requestAPI<IVersionReply>('version', this.settings);
  }

  topology(): Promise<ITopologyReply> {
    return this._get<ITopologyReply>('topology', {});
  }

  tier(id: string, query: ITierQuery): Promise<ITierPage> {
    return this._get<ITierPage>(`tiers/${encodeURIComponent(id)}`, {
      offset: String(query.offset),
      limit: String(query.limit),
      sort: query.sort,
      order: query.order,
      filter: query.filter,
      group: 'entry' // a cache entry's values come together, under it
    });
  }

  objects(kind: ObjectKind, offset = 0, limit = 50): Promise<IObjectsPage> {
    return this._get<IObjectsPage>(`objects/${kind}`, { offset: String(offset), limit: String(limit) });
  }

  volume(name: string, path: string, offset = 0, limit = 100): Promise<IVolumePage> {
    return this._get<IVolumePage>(`volumes/${encodeURIComponent(name)}`, {
      path,
      offset: String(offset),
      limit: String(limit)
    });
  }

  dict(name: string, offset = 0, limit = 25): Promise<IDictPage> {
    return this._get<IDictPage>(`dicts/${encodeURIComponent(name)}`, { offset: String(offset), limit: String(limit) });
  }

  queue(name: string, n = 10): Promise<IQueueHead> {
    return this._get<IQueueHead>(`queues/${encodeURIComponent(name)}`, { n: String(n) });
  }

  datasets(offset = 0, limit = 50): Promise<IDatasetsPage> {
    return this._get<IDatasetsPage>('datasets', { offset: String(offset), limit: String(limit) });
  }

  dataset(path: string, offset = 0, limit = 10): Promise<IDatasetSummary> {
    return this._get<IDatasetSummary>('datasets', { path, offset: String(offset), limit: String(limit) });
  }

  cache(offset = 0, limit = 50, filter = ''): Promise<ICachePage> {
    return this._get<ICachePage>('cache', { offset: String(offset), limit: String(limit), filter });
  }

  cacheGroup(kind: string, name: string): Promise<ICacheGroupDetail> {
    return this._get<ICacheGroupDetail>('cache', { kind, name });
  }

  evict(id: string, keys: string[], force = false): Promise<IEvictReply> {
    return requestAPI<IEvictReply>(this._path(`tiers/${encodeURIComponent(id)}/evict`, {}), this.settings, {
      method: 'POST',
      body: JSON.stringify({ keys, force })
    });
  }

  /** Which of `keys` have no other copy in the lake (nothing is removed). */
  onlyCopies(id: string, keys: string[]): Promise<{ id: string; only_copies: string[] }> {
    return requestAPI(this._path(`tiers/${encodeURIComponent(id)}/evict`, {}), this.settings, {
      method: 'POST',
      body: JSON.stringify({ keys, check: true })
    });
  }

  clear(id: string, force = false): Promise<IClearReply> {
    return requestAPI<IClearReply>(this._path(`tiers/${encodeURIComponent(id)}/clear`, {}), this.settings, {
      method: 'POST',
      body: JSON.stringify({ force })
    });
  }

  private _get<T>(path: string, params: Record<string, string>): Promise<T> {
    return requestAPI<T>(this._path(path, params), this.settings);
  }

  private _path(path: string, params: Record<string, string>): string {
    const all = new URLSearchParams(params);
    if (this.home) {
      all.set('home', this.home);
    }
    const query = all.toString();
    return query ? `${path}?${query}` : path;
  }
}

/** The message shown when the server extension speaks another API version than this sidebar. */
export function versionMismatchText(server: number): string {
  return (
    `This sidebar (API ${API_VERSION}) and the lakelet server extension (API ${server}) come from ` +
    'different lakelet versions. Install the same lakelet version in the Python environment that ' +
    'runs Jupyter, restart Jupyter, then reload this page.'
  );
}
