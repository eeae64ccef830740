/**
 * Types of lakelet's REST API (`/lakelet/api/...`) and the one request helper.
 */
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

import type { ITierPage, ITopologyReply, IEvictReply, IClearReply, ITierQuery } from './model';

/** The REST API version this frontend speaks (the server's `api` field must match). */
export const API_VERSION = 1;

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

  topology(): Promise<ITopologyReply> {
    return requestAPI<ITopologyReply>('topology', this.settings);
  }

  tier(id: string, query: ITierQuery): Promise<ITierPage> {
    const params = new URLSearchParams({
      offset: String(query.offset),
      limit: String(query.limit),
      sort: query.sort,
      order: query.order,
      filter: query.filter
    });
    return requestAPI<ITierPage>(`tiers/${encodeURIComponent(id)}?${params}`, this.settings);
  }

  evict(id: string, keys: string[], force = false): Promise<IEvictReply> {
    return requestAPI<IEvictReply>(`tiers/${encodeURIComponent(id)}/evict`, this.settings, {
      method: 'POST',
      body: JSON.stringify({ keys, force })
    });
  }

  clear(id: string, force = false): Promise<IClearReply> {
    return requestAPI<IClearReply>(`tiers/${encodeURIComponent(id)}/clear`, this.settings, {
      method: 'POST',
      body: JSON.stringify({ force })
    });
  }
}
