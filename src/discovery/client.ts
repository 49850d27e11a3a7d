import { StringDecoder } from 'node:string_decoder';
import { Agent, request, type Dispatcher } from 'undici';

/** Where the Kubernetes API is and how to authenticate to it (from the in-cluster service account or a kubeconfig). */
export interface KubeConnection {
  /** `https://host:port` of the API server. */
  server: string;
  /** Bearer token, read on every request: service account tokens are rotated on disk. */
  token?: () => string | undefined;
  /** PEM CA bundle that signs the API server's certificate. */
  ca?: string;
  /** PEM client certificate and key (kubeconfig users without a token). */
  cert?: string;
  key?: string;
  insecureSkipTlsVerify?: boolean;
  /** Namespace to watch when the config names none (the pod's own, or the kubeconfig context's). */
  namespace?: string;
}

/** The part of a Secret that discovery reads (`GET /api/v1/namespaces/{ns}/secrets`). */
export interface KubeSecret {
  metadata: { name: string; namespace?: string; resourceVersion?: string; creationTimestamp?: string };
  /** Values are base64. */
  data?: Record<string, string>;
}

/** Why a request to the API failed; used as the `reason` label of `alertmux_discovery_errors_total`. */
export type KubeFailureReason = 'unauthorized' | 'forbidden' | 'gone' | 'notFound' | 'serverError' | 'clientError' | 'network' | 'badResponse';

/** A failed list or watch, as a value. The message never carries the token. */
export type KubeFailure = { ok: false; reason: KubeFailureReason; message: string; status?: number };

/** One watch event of a Secret (ERROR events are turned into a KubeFailure). */
export interface WatchEvent {
  type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK';
  object: KubeSecret;
}

// The watch stays open until the server ends it (timeoutSeconds) or we abort it; no body timeout applies.
// https://kubernetes.io/docs/reference/using-api/api-concepts/#efficient-detection-of-changes
const WATCH_TIMEOUT_SECONDS = 300;
const REQUEST_TIMEOUT_MS = 30_000;

/** A minimal client of the Secrets list/watch API over undici. */
export class KubeClient {
  private readonly http: Dispatcher;
  private readonly owned: boolean;

  constructor(
    private readonly connection: KubeConnection,
    dispatcher?: Dispatcher,
  ) {
    this.owned = dispatcher === undefined;
    this.http =
      dispatcher ??
      new Agent({
        keepAliveTimeout: 30_000,
        connect: {
          ...(connection.ca ? { ca: connection.ca } : {}),
          ...(connection.cert ? { cert: connection.cert, key: connection.key } : {}),
          rejectUnauthorized: !connection.insecureSkipTlsVerify,
        },
      });
  }

  /** List the Secrets of `namespace` matching `selector`, with the list's resourceVersion to watch from. */
  async list(namespace: string, selector: string, signal: AbortSignal): Promise<{ ok: true; resourceVersion: string; items: KubeSecret[] } | KubeFailure> {
    const res = await this.get(secretsPath(namespace, { labelSelector: selector }), signal, REQUEST_TIMEOUT_MS);
    if (!res.ok) return res;
    try {
      const list = (await res.body.json()) as { metadata?: { resourceVersion?: string }; items?: KubeSecret[] };
      if (!Array.isArray(list.items)) return { ok: false, reason: 'badResponse', message: 'list answer has no items' };
      return { ok: true, resourceVersion: list.metadata?.resourceVersion ?? '', items: list.items };
    } catch (err) {
      return signal.aborted ? { ok: false, reason: 'network', message: 'canceled' } : { ok: false, reason: 'badResponse', message: `list answer is not JSON (${String(err)})` };
    }
  }

  /**
   * Watch from `resourceVersion`, calling `onEvent` for each newline-delimited JSON event.
   * Resolves `{ok: true}` when the server ends the stream or `signal` aborts it; a 410 (as
   * status or ERROR event) is `reason: 'gone'`: the caller must list again.
   */
  async watch(namespace: string, selector: string, resourceVersion: string, signal: AbortSignal, onEvent: (event: WatchEvent) => void): Promise<{ ok: true; events: number } | KubeFailure> {
    const path = secretsPath(namespace, {
      labelSelector: selector,
      watch: '1',
      resourceVersion,
      allowWatchBookmarks: 'true',
      timeoutSeconds: String(WATCH_TIMEOUT_SECONDS),
    });
    const res = await this.get(path, signal, 0);
    if (!res.ok) return res;
    const decoder = new StringDecoder('utf8');
    let pending = '';
    let events = 0;
    try {
      for await (const chunk of res.body) {
        pending += decoder.write(chunk as Buffer);
        let nl: number;
        while ((nl = pending.indexOf('\n')) >= 0) {
          const line = pending.slice(0, nl).trim();
          pending = pending.slice(nl + 1);
          if (!line) continue;
          const event = parseEvent(line);
          if ('ok' in event) {
            res.body.destroy();
            return event;
          }
          events++;
          onEvent(event);
        }
      }
    } catch (err) {
      if (signal.aborted) return { ok: true, events };
      return { ok: false, reason: 'network', message: `watch stream broke (${errorText(err)})` };
    }
    return { ok: true, events };
  }

  /** Close the connection pool (only one this client created). */
  async close(): Promise<void> {
    if (this.owned) await this.http.destroy();
  }

  private async get(path: string, signal: AbortSignal, bodyTimeout: number): Promise<(Dispatcher.ResponseData & { ok: true }) | KubeFailure> {
    let token: string | undefined;
    try {
      token = this.connection.token?.();
    } catch (err) {
      return { ok: false, reason: 'unauthorized', message: `cannot read the token (${errorText(err)})` };
    }
    let res: Dispatcher.ResponseData;
    try {
      res = await request(new URL(path, this.connection.server), {
        dispatcher: this.http,
        method: 'GET',
        headers: { accept: 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
        signal,
        bodyTimeout,
        headersTimeout: REQUEST_TIMEOUT_MS,
      });
    } catch (err) {
      return { ok: false, reason: 'network', message: signal.aborted ? 'canceled' : `cannot reach the API server (${errorText(err)})` };
    }
    if (res.statusCode >= 200 && res.statusCode < 300) return Object.assign(res, { ok: true as const });
    const text = await res.body.text().catch(() => '');
    return statusFailure(res.statusCode, statusMessage(text));
  }
}

/** `/api/v1/namespaces/{ns}/secrets?...` */
function secretsPath(namespace: string, query: Record<string, string>): string {
  return `/api/v1/namespaces/${encodeURIComponent(namespace)}/secrets?${new URLSearchParams(query).toString()}`;
}

function parseEvent(line: string): WatchEvent | KubeFailure {
  let event: { type?: string; object?: { code?: number; message?: string } & Partial<KubeSecret> };
  try {
    event = JSON.parse(line) as typeof event;
  } catch {
    return { ok: false, reason: 'badResponse', message: 'watch event is not JSON' };
  }
  if (event.type === 'ERROR') return statusFailure(event.object?.code ?? 500, event.object?.message ?? 'watch error');
  if (!['ADDED', 'MODIFIED', 'DELETED', 'BOOKMARK'].includes(event.type ?? '') || !event.object?.metadata) {
    return { ok: false, reason: 'badResponse', message: `unexpected watch event ${String(event.type)}` };
  }
  return event as WatchEvent;
}

/** A status code (of a response or an ERROR event's Status object) as a failure. */
function statusFailure(status: number, message: string): KubeFailure {
  const reason: KubeFailureReason =
    status === 401 ? 'unauthorized' : status === 403 ? 'forbidden' : status === 404 ? 'notFound' : status === 410 ? 'gone' : status >= 500 ? 'serverError' : 'clientError';
  return { ok: false, reason, status, message: `${status}${message ? `: ${message}` : ''}` };
}

/** The `message` of a Kubernetes Status body, or a short piece of the text. */
function statusMessage(text: string): string {
  try {
    const status = JSON.parse(text) as { message?: unknown };
    if (typeof status.message === 'string') return status.message.slice(0, 300);
  } catch {
    // not a Status object
  }
  return text.slice(0, 200);
}

function errorText(err: unknown): string {
  const e = err as { code?: string; cause?: { code?: string }; message?: string };
  return e.cause?.code ?? e.code ?? e.message ?? String(err);
}
