/**
 * Auto-refresh while code runs: a kernel going busy starts a slow poll, going
 * idle again triggers one refresh (debounced), so new cache entries show up as
 * soon as a cell finishes. Pure logic with timers; unit-tested with jest's fake timers.
 */

export type KernelStatus = string;

export interface IRefresherOptions {
  /** Called to refresh the view. */
  refresh: () => void;
  /** Milliseconds between refreshes while any kernel is busy (0 disables polling). */
  pollInterval?: number;
  /** Milliseconds to wait after the last kernel went idle before refreshing. */
  debounce?: number;
}

/** Tracks the status of several kernels (by an id) and refreshes on busy -> idle. */
export class BusyIdleRefresher {
  constructor(options: IRefresherOptions) {
    this._refresh = options.refresh;
    this._pollInterval = options.pollInterval ?? 5000;
    this._debounce = options.debounce ?? 300;
  }

  /** Number of kernels currently busy. */
  get busy(): number {
    return this._busy.size;
  }

  /** Report the status of the kernel `id` ("busy", "idle", "dead", ...). */
  update(id: string, status: KernelStatus): void {
    const wasBusy = this._busy.has(id);
    if (status === 'busy') {
      this._busy.add(id);
      if (!wasBusy) {
        this._startPolling();
      }
      return;
    }
    if (!wasBusy) {
      return;
    }
    this._busy.delete(id);
    if (this._busy.size === 0) {
      this._stopPolling();
    }
    this._schedule();
  }

  /** Forget a kernel (its notebook closed). */
  remove(id: string): void {
    if (this._busy.delete(id) && this._busy.size === 0) {
      this._stopPolling();
    }
  }

  dispose(): void {
    this._stopPolling();
    if (this._timer !== null) {
      clearTimeout(this._timer);
      this._timer = null;
    }
    this._busy.clear();
  }

  private _schedule(): void {
    if (this._timer !== null) {
      clearTimeout(this._timer);
    }
    this._timer = setTimeout(() => {
      this._timer = null;
      this._refresh();
    }, this._debounce);
  }

  private _startPolling(): void {
    if (this._pollInterval > 0 && this._poll === null) {
      this._poll = setInterval(() => this._refresh(), this._pollInterval);
    }
  }

  private _stopPolling(): void {
    if (this._poll !== null) {
      clearInterval(this._poll);
      this._poll = null;
    }
  }

  private _refresh: () => void;
  private _pollInterval: number;
  private _debounce: number;
  private _busy = new Set<string>();
  private _timer: ReturnType<typeof setTimeout> | null = null;
  private _poll: ReturnType<typeof setInterval> | null = null;
}
