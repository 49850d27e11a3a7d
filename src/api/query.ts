import { parseDuration } from '../config/duration.js';
import { parseMatchers } from '../dispatch/matchers.js';
import type { ParamCheck } from './input.js';

/** RFC 3339 with a zone, as Alertmanager's API takes times. */
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/i;

/** A time in ms: RFC 3339 (`2026-11-22T23:00:00Z`), or a duration (`1h`, `30m`) meaning that long before `now`. */
export function parseTime(text: string, now: number): number | undefined {
  if (RFC3339.test(text)) {
    const at = Date.parse(text);
    return Number.isNaN(at) ? undefined : at;
  }
  const ms = parseDuration(text);
  return ms === undefined ? undefined : now - ms;
}

/** A time, as parseTime reads it. */
export const time: ParamCheck = (v) => (parseTime(v, 0) === undefined ? 'must be an RFC 3339 time (2026-11-22T23:00:00Z) or a duration before now (1h, 30m)' : undefined);

/** A label matcher set in Alertmanager's syntax: `{severity="critical",team=~"db.*"}`. */
export const matcherSet: ParamCheck = (v) => {
  if (v.length > 1024) return 'must be at most 1024 characters';
  try {
    if (parseMatchers(v).length === 0) return 'must hold at least one matcher';
    return undefined;
  } catch (err) {
    return `is not a matcher set: ${(err as Error).message}`;
  }
};

/** An opaque page cursor: base64url of JSON. */
export function encodeCursor(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}

/** The value of a cursor, if `text` is one that `valid` accepts. */
export function decodeCursor<T>(text: string, valid: (v: unknown) => v is T): T | undefined {
  if (!/^[A-Za-z0-9_-]{1,400}$/.test(text)) return undefined;
  try {
    const value: unknown = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
    return valid(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

/** A cursor check for queryParams. */
export const cursorOf =
  <T>(valid: (v: unknown) => v is T): ParamCheck =>
  (v) =>
    decodeCursor(v, valid) === undefined ? "must be the nextCursor of a previous page, as given" : undefined;

/** The client's address, for log lines of operator actions. */
export function remoteOf(req: { socket: { remoteAddress?: string }; headers: Record<string, string | string[] | undefined> }): string {
  return req.socket.remoteAddress ?? 'unknown';
}
