/**
 * Small pure formatting helpers (unit-tested in jest).
 */

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

/** `1536` -> `"1.5 KiB"`. */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) {
    return '?';
  }
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  const digits = unit === 0 || value >= 100 ? 0 : value >= 10 ? 1 : 2;
  return `${value.toFixed(digits)} ${UNITS[unit]}`;
}

/** How long ago `seconds` (epoch seconds) was, relative to `now` (epoch milliseconds). */
export function formatAge(seconds: number | null, now: number = Date.now()): string {
  if (seconds === null || !Number.isFinite(seconds)) {
    return '–';
  }
  const delta = Math.max(0, now / 1000 - seconds);
  if (delta < 60) {
    return `${Math.floor(delta)} s ago`;
  }
  if (delta < 3600) {
    return `${Math.floor(delta / 60)} min ago`;
  }
  if (delta < 86400) {
    return `${Math.floor(delta / 3600)} h ago`;
  }
  return `${Math.floor(delta / 86400)} d ago`;
}

/** A compact age for narrow columns: `"7s"`, `"13m"`, `"2h"`, `"3d"`. */
export function formatAgeShort(seconds: number | null, now: number = Date.now()): string {
  const long = formatAge(seconds, now);
  const match = /^(\d+) (s|min|h|d) ago$/.exec(long);
  return match ? `${match[1]}${match[2] === 'min' ? 'm' : match[2]}` : long;
}

/** Fraction of `capacity` used, in [0, 1], or null when unbounded. */
export function usageFraction(bytes: number, capacity: number | null): number | null {
  if (capacity === null || capacity <= 0) {
    return null;
  }
  return Math.min(1, Math.max(0, bytes / capacity));
}

/** The first `n` characters of a storage key. */
export function shortKey(key: string, n = 12): string {
  return key.length > n ? `${key.slice(0, n)}…` : key;
}
