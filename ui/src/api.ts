/** The console's only way to the server: same-origin fetch with the admin token from sessionStorage. */

const KEY = 'alertmux.adminToken';

/** The admin token lives in sessionStorage (gone with the tab), never in a URL. */
export const token = {
  get: (): string | null => sessionStorage.getItem(KEY),
  set: (value: string) => sessionStorage.setItem(KEY, value),
  clear: () => sessionStorage.removeItem(KEY),
};

/** A failed API call: the status and the server's `error` text. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    /** The route itself is unknown to this alertmux (an older version): the console says "not available". */
    readonly unavailable = false,
  ) {
    super(message);
  }
}

/** Called when the server refuses the token (it was changed, or the config now asks for one). */
let onUnauthorized: () => void = () => undefined;
export function setUnauthorizedHandler(fn: () => void): void {
  onUnauthorized = fn;
}

/** Calls `path` with the token; JSON in, JSON (or text) out; non-2xx throws ApiError. */
export async function api<T>(path: string, init: { method?: string; body?: unknown; token?: string } = {}): Promise<T> {
  const headers: Record<string, string> = { Accept: 'application/json' };
  const t = init.token ?? token.get();
  if (t) headers['Authorization'] = `Bearer ${t}`;
  if (init.body !== undefined) headers['Content-Type'] = 'application/json';
  const res = await fetch(path, {
    method: init.method ?? 'GET',
    headers,
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
    credentials: 'omit',
    cache: 'no-store',
  });
  const type = res.headers.get('content-type') ?? '';
  const body: unknown = res.status === 204 ? undefined : type.includes('json') ? await res.json() : await res.text();
  if (res.ok) return body as T;
  const message = typeof body === 'string' ? body : ((body as { error?: string } | undefined)?.error ?? res.statusText);
  if (res.status === 401) onUnauthorized();
  throw new ApiError(res.status, message, res.status === 404 && message === 'not found');
}

/** A query string from the set values of `params` ("" and undefined left out). */
export function query(params: Record<string, string | number | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== '') q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}
