import { StringDecoder } from 'node:string_decoder';
import type { Dispatcher } from 'undici';
import type { IncomingHttpHeaders } from 'undici/types/header.js';
import type { FailureReason, Outcome, PlannedRequest, PublisherDeps } from './publisher.js';

/** How one vendor's responses are classified. See `notify.Retrier` in Alertmanager. */
export interface RetryPolicy {
  /** Status codes to retry in addition to 5xx and 429 (e.g. 408). */
  retryOn?: readonly number[];
  /** Extract a short vendor message from an error body. */
  details?: (status: number, body: string) => string | undefined;
}

/** One outbound request. `body` is sent as is when a string, else as JSON. */
export interface HttpRequest {
  url: string;
  method?: 'POST' | 'PUT' | 'PATCH' | 'GET' | 'HEAD';
  headers?: Record<string, string>;
  body?: unknown;
}

/** A response read to the end (bodies are small; longer ones are cut), redacted of the target's secrets. */
export interface HttpResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

const MAX_BODY = 64 * 1024;
const MAX_DETAILS = 300;

/**
 * Send a request through the injected undici dispatcher. Throws only transport errors
 * (and the signal's reason when it aborts the request).
 *
 * The answer's body is redacted of the target's secrets (`deps.redact`) here, where it enters alertmux:
 * a proxy or debug endpoint that echoes the request back cannot put a secret into anything made from it
 * (error excerpts, cut to a few hundred characters later, logs, the ledger).
 *
 * Straight on `dispatcher.dispatch` with a handler that collects the answer, rather than
 * undici's `request()`: no response stream per request, and one abort listener instead of
 * two: about a third less CPU per request.
 */
export function send(deps: Pick<PublisherDeps, 'http' | 'userAgent' | 'redact'>, req: HttpRequest, signal: AbortSignal): Promise<HttpResponse> {
  const { body, headers } = outgoing(deps, req);
  return new Promise<HttpResponse>((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    const collector = new Collector(signal, resolve, reject, deps.redact);
    signal.addEventListener('abort', collector, ONCE);
    try {
      const { origin, path } = destination(req.url);
      deps.http.dispatch({ origin, path, method: req.method ?? 'POST', headers, body }, collector);
    } catch (err) {
      collector.fail(err);
    }
  });
}

const ONCE = { once: true } as const;

/** The request as it goes out: the body's bytes, and the headers with the user agent and the default content type `send` adds. */
export function outgoing(deps: Pick<PublisherDeps, 'userAgent'>, req: HttpRequest): PlannedRequest {
  const body = req.body === undefined ? undefined : typeof req.body === 'string' ? req.body : JSON.stringify(req.body);
  const headers: Record<string, string> = { 'user-agent': deps.userAgent };
  let typed = false;
  for (const name in req.headers) {
    headers[name] = req.headers[name] as string;
    typed ||= name.toLowerCase() === 'content-type';
  }
  if (body !== undefined && !typed) headers['content-type'] = 'application/json';
  return { method: req.method ?? 'POST', url: req.url, headers, ...(body === undefined ? {} : { body }) };
}

/**
 * One request's undici handler and its listener on the attempt's signal, in one object: its
 * methods are shared by every request, where a handler of closures made six functions per request.
 */
class Collector implements Dispatcher.DispatchHandler {
  private controller?: Dispatcher.DispatchController;
  private status = 0;
  private headers: HttpResponse['headers'] = {};
  private text = '';
  /** One decoder for the whole body, so a character split across chunks stays whole; made at the first chunk. */
  private decoder?: StringDecoder;

  constructor(
    private readonly signal: AbortSignal,
    private readonly resolve: (res: HttpResponse) => void,
    private readonly reject: (err: unknown) => void,
    private readonly redact?: (text: string) => string,
  ) {}

  /** The signal aborted: abort the request (undici then reports it through onResponseError). */
  handleEvent(): void {
    this.controller?.abort(this.signal.reason as Error);
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.signal.aborted) controller.abort(this.signal.reason as Error);
  }

  onResponseStart(_controller: Dispatcher.DispatchController, statusCode: number, headers: IncomingHttpHeaders): void {
    this.status = statusCode;
    this.headers = headers as HttpResponse['headers'];
  }

  onResponseData(_controller: Dispatcher.DispatchController, chunk: Buffer): void {
    // Bodies are small; a longer one is read to the end but only its start is kept.
    if (this.text.length < MAX_BODY) this.text += (this.decoder ??= new StringDecoder('utf8')).write(chunk);
  }

  onResponseEnd(): void {
    this.signal.removeEventListener('abort', this);
    const text = (this.decoder ? this.text + this.decoder.end() : this.text).slice(0, MAX_BODY);
    this.resolve({ status: this.status, headers: this.headers, body: this.redact && text ? this.redact(text) : text });
  }

  onResponseError(_controller: Dispatcher.DispatchController, err: Error): void {
    this.fail(err);
  }

  fail(err: unknown): void {
    this.signal.removeEventListener('abort', this);
    this.reject(err);
  }
}

/** Most URLs whose origin and path are kept parsed; past it the memo starts over. */
const DESTINATIONS_MAX = 1024;
const destinations = new Map<string, { origin: string; path: string }>();

/**
 * The origin and path of a URL, parsed once: targets send to the same few URLs, and a `new URL` per
 * request was 1% of the main thread at capacity. Throws on an invalid URL, as `new URL` does.
 */
export function destination(url: string): { origin: string; path: string } {
  let parsed = destinations.get(url);
  if (parsed === undefined) {
    const { origin, pathname, search } = new URL(url);
    parsed = { origin, path: `${pathname}${search}` };
    if (destinations.size >= DESTINATIONS_MAX) destinations.clear();
    destinations.set(url, parsed);
  }
  return parsed;
}

/** Send and classify: the whole path of a JSON-over-HTTP vendor. Never throws. */
export function deliver(
  deps: Pick<PublisherDeps, 'http' | 'userAgent' | 'redact'>,
  req: HttpRequest,
  signal: AbortSignal,
  policy: RetryPolicy = {},
): Promise<Outcome> {
  return deliverWith(deps, req, signal, (res) => classifyResponse(res, policy));
}

/** Send, then classify with a vendor's own rules (built on classifyResponse); transport errors via classifyError. Never throws. */
export async function deliverWith(
  deps: Pick<PublisherDeps, 'http' | 'userAgent' | 'redact'>,
  req: HttpRequest,
  signal: AbortSignal,
  classify: (res: HttpResponse) => Outcome,
): Promise<Outcome> {
  try {
    return classify(await send(deps, req, signal));
  } catch (err) {
    return classifyError(err);
  }
}

/** The reason label for an HTTP status. */
export function reasonFromStatus(status: number): FailureReason {
  if (status === 429) return 'rateLimited';
  if (status === 401 || status === 403) return 'authError';
  if (status >= 500) return 'serverError';
  if (status >= 400) return 'clientError';
  return 'other';
}

/**
 * 2xx is success; 5xx, 429 (rate limited: `Retry-After` is kept) and
 * `policy.retryOn` are retryable; every other status is permanent.
 */
export function classifyResponse(res: HttpResponse, policy: RetryPolicy = {}): Outcome {
  if (res.status >= 200 && res.status < 300) return { ok: true, status: res.status };
  const details = (policy.details ? policy.details(res.status, res.body) : res.body.trim()) ?? '';
  const retryAfterMs = parseRetryAfter(header(res.headers, 'retry-after'));
  return {
    ok: false,
    retryable: res.status >= 500 || res.status === 429 || (policy.retryOn ?? []).includes(res.status),
    reason: reasonFromStatus(res.status),
    status: res.status,
    message: `unexpected status code ${res.status}${details ? `: ${truncate(details, MAX_DETAILS)}` : ''}`,
    ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
  };
}

/**
 * A thrown request error never reached the vendor, so like Alertmanager we retry
 * it, except when we cancelled it ourselves. The message leaves out the URL:
 * webhook, Slack and Teams URLs carry secrets.
 */
export function classifyError(err: unknown): Outcome {
  const name = err instanceof Error ? err.name : '';
  if (name === 'TimeoutError') return { ok: false, retryable: true, reason: 'timeout', message: 'request timed out' };
  if (name === 'AbortError') return { ok: false, retryable: true, reason: 'canceled', message: 'request canceled' };
  const e = err as { code?: unknown; cause?: { code?: unknown } } | undefined;
  const code = typeof e?.code === 'string' ? e.code : typeof e?.cause?.code === 'string' ? e.cause.code : undefined;
  if (code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') {
    return { ok: false, retryable: true, reason: 'timeout', message: `request timed out (${code})` };
  }
  return { ok: false, retryable: true, reason: 'network', message: code ? `network error: ${code}` : 'network error' };
}

/** `Retry-After` as milliseconds: delay-seconds or an HTTP date (RFC 9110 §10.2.3). */
export function parseRetryAfter(value: string | undefined, now = Date.now()): number | undefined {
  if (value === undefined || value.trim() === '') return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** One header's value as a string. */
export function header(headers: HttpResponse['headers'], name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** Cut `text` to `max` characters, marking the cut. */
export function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, Math.max(0, max - 1))}…`;
}
