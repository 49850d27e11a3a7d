import { readFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createTlsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';

/** Test-only TLS material (test/fixtures/tls/make.sh): a CA, the API server's certificate for 127.0.0.1, a client certificate. */
export const TLS = Object.fromEntries(
  ['ca.crt', 'server.crt', 'server.key', 'client.crt', 'client.key'].map((name) => [name, readFileSync(new URL(`../fixtures/tls/${name}`, import.meta.url), 'utf8')]),
) as Record<'ca.crt' | 'server.crt' | 'server.key' | 'client.crt' | 'client.key', string>;

/** A Secret as the API serves it (apiVersion v1). */
export interface SecretObject {
  kind: 'Secret';
  apiVersion: 'v1';
  metadata: { name: string; namespace: string; uid: string; resourceVersion: string; creationTimestamp: string; labels: Record<string, string> };
  type: 'Opaque';
  data: Record<string, string>;
}

interface Change {
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  object: SecretObject;
  /** Labels before this change (MODIFIED): decides what a selector-filtered watch sees. */
  before?: Record<string, string>;
}

interface Watcher {
  namespace: string;
  selector: string;
  from: number;
  res: ServerResponse;
}

/**
 * A loopback stand-in for the Kubernetes API's Secrets endpoints, speaking its wire format:
 * list (`SecretList` with `metadata.resourceVersion`), watch (`?watch=1`: chunked,
 * newline-delimited `{"type", "object"}` events, BOOKMARK, ERROR with a 410 Status on an
 * expired resourceVersion), and 401/403 Status answers. With `tls`, it serves HTTPS with the
 * fixture server certificate and, as the API server does, also takes a client certificate
 * signed by its CA as authentication.
 */
export class K8sDouble {
  url = '';
  /** Every request received: path and query. */
  readonly requests: Array<{ path: string; query: URLSearchParams; authorization?: string }> = [];
  /** Namespaces whose Secrets the token may not read (403). */
  readonly forbidden = new Set<string>();
  /** Answer an expired watch with HTTP 410 instead of a 200 stream holding an ERROR event. */
  goneAsStatus = false;
  token: string;
  private readonly server: Server;
  private readonly secrets = new Map<string, SecretObject>();
  private readonly history: Array<Change & { rv: number }> = [];
  private readonly watchers = new Set<Watcher>();
  private rv = 100;
  /** Watches from a resourceVersion below this get 410 Gone. */
  private compacted = 0;

  /** Requests authenticated by a client certificate its CA signed (TLS only). */
  certificateClients = 0;
  private readonly tls: boolean;

  constructor(token = 'sa-token', options: { tls?: boolean } = {}) {
    this.token = token;
    this.tls = options.tls ?? false;
    const handler = (req: IncomingMessage, res: ServerResponse) => this.handle(req, res);
    this.server = this.tls
      ? createTlsServer({ cert: TLS['server.crt'], key: TLS['server.key'], ca: TLS['ca.crt'], requestCert: true, rejectUnauthorized: false }, handler)
      : createServer(handler);
  }

  /** Listen on 127.0.0.1 (any free port). */
  async start(): Promise<this> {
    this.server.listen(0, '127.0.0.1');
    await new Promise((resolve) => this.server.once('listening', resolve));
    this.url = `${this.tls ? 'https' : 'http'}://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  /** Watch connections open now. */
  get openWatches(): number {
    return this.watchers.size;
  }

  /** Create or update a Secret (string values are base64-encoded as the API does); watchers see the event. */
  put(namespace: string, name: string, data: Record<string, string>, labels: Record<string, string> = { 'alertmux.io/target': 'true' }, options: { silent?: boolean } = {}): SecretObject {
    const key = `${namespace}/${name}`;
    const old = this.secrets.get(key);
    const object: SecretObject = {
      kind: 'Secret',
      apiVersion: 'v1',
      metadata: {
        name,
        namespace,
        uid: old?.metadata.uid ?? `uid-${key}`,
        resourceVersion: String(++this.rv),
        creationTimestamp: old?.metadata.creationTimestamp ?? new Date(Date.UTC(2026, 0, 1, 0, 0, this.rv)).toISOString(),
        labels,
      },
      type: 'Opaque',
      data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v, 'utf8').toString('base64')])),
    };
    this.secrets.set(key, object);
    // A silent change is one the watch misses (as across a dropped event); only a re-list sees it.
    if (!options.silent) this.record({ type: old ? 'MODIFIED' : 'ADDED', object, before: old?.metadata.labels });
    return object;
  }

  /** Delete a Secret; watchers see DELETED. */
  delete(namespace: string, name: string): void {
    const old = this.secrets.get(`${namespace}/${name}`);
    if (!old) return;
    this.secrets.delete(`${namespace}/${name}`);
    this.record({ type: 'DELETED', object: { ...old, metadata: { ...old.metadata, resourceVersion: String(++this.rv) } } });
  }

  /** Send a BOOKMARK with the current resourceVersion to every open watch. */
  bookmark(): void {
    for (const w of this.watchers) this.send(w, { type: 'BOOKMARK', object: { kind: 'Secret', apiVersion: 'v1', metadata: { resourceVersion: String(this.rv) } } });
  }

  /** Compact history (as etcd does): watches from an older resourceVersion get 410 Gone from now on. */
  compact(): void {
    this.compacted = this.rv;
    this.history.length = 0;
  }

  /** Compact, and end open watches with an ERROR event holding a 410 Status. */
  expire(): void {
    this.compact();
    for (const w of [...this.watchers]) {
      this.send(w, { type: 'ERROR', object: status(410, 'Expired', `too old resource version: ${w.from} (${this.rv})`) });
      w.res.end();
    }
  }

  /** End every open watch normally (as when `timeoutSeconds` passes). */
  endWatches(): void {
    for (const w of [...this.watchers]) w.res.end();
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }

  private record(change: Change): void {
    const entry = { ...change, rv: this.rv };
    this.history.push(entry);
    for (const w of this.watchers) this.deliver(w, entry);
  }

  /** What a watch on (namespace, selector) sees of a change, label transitions included. */
  private deliver(w: Watcher, change: Change): void {
    if (change.object.metadata.namespace !== w.namespace) return;
    const now = matches(w.selector, change.object.metadata.labels);
    const before = change.before === undefined ? change.type !== 'ADDED' && now : matches(w.selector, change.before);
    let type: string | undefined = change.type;
    if (change.type === 'MODIFIED') type = now && before ? 'MODIFIED' : now ? 'ADDED' : before ? 'DELETED' : undefined;
    else if (!now) type = undefined;
    if (type) this.send(w, { type, object: change.object });
  }

  private send(w: Watcher, event: unknown): void {
    w.res.write(`${JSON.stringify(event)}\n`);
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://double');
    this.requests.push({ path: url.pathname, query: url.searchParams, authorization: req.headers.authorization });
    const reply = (code: number, body: unknown) => void res.writeHead(code, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    // A client certificate its CA signed authenticates as well as the token does (kubeconfig users without a token).
    const byCertificate = this.tls && (req.socket as TLSSocket).authorized;
    if (byCertificate) this.certificateClients++;
    if (!byCertificate && req.headers.authorization !== `Bearer ${this.token}`) return reply(401, status(401, 'Unauthorized', 'Unauthorized'));
    const m = /^\/api\/v1\/namespaces\/([^/]+)\/secrets$/.exec(url.pathname);
    if (req.method !== 'GET' || !m) return reply(404, status(404, 'NotFound', 'the server could not find the requested resource'));
    const namespace = decodeURIComponent(m[1]!);
    const watch = url.searchParams.get('watch') === '1' || url.searchParams.get('watch') === 'true';
    if (this.forbidden.has(namespace)) {
      const verb = watch ? 'watch' : 'list';
      return reply(403, status(403, 'Forbidden', `secrets is forbidden: User "system:serviceaccount:monitoring:alertmux" cannot ${verb} resource "secrets" in API group "" in the namespace "${namespace}"`));
    }
    const selector = url.searchParams.get('labelSelector') ?? '';
    if (!watch) {
      const items = [...this.secrets.values()].filter((s) => s.metadata.namespace === namespace && matches(selector, s.metadata.labels));
      return reply(200, { kind: 'SecretList', apiVersion: 'v1', metadata: { resourceVersion: String(this.rv) }, items });
    }
    const from = Number(url.searchParams.get('resourceVersion') ?? '0');
    if (from < this.compacted) {
      if (this.goneAsStatus) return reply(410, status(410, 'Expired', `too old resource version: ${from} (${this.rv})`));
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(`${JSON.stringify({ type: 'ERROR', object: status(410, 'Expired', `too old resource version: ${from} (${this.rv})`) })}\n`);
      return;
    }
    // No content-length: Node sends the stream chunked, as the API server does.
    res.writeHead(200, { 'content-type': 'application/json' });
    res.flushHeaders();
    const w: Watcher = { namespace, selector, from, res };
    this.watchers.add(w);
    res.on('close', () => this.watchers.delete(w));
    for (const change of this.history) if (change.rv > from) this.deliver(w, change);
  }
}

/** A `Status` object, as the API answers errors. */
function status(code: number, reason: string, message: string) {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
}

/** Equality-based selectors: `a=b`, `a==b`, `a!=b`, `a`, `!a`, comma-separated. */
function matches(selector: string, labels: Record<string, string>): boolean {
  return selector
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .every((req) => {
      const ne = /^([^!=]+)!=(.*)$/.exec(req);
      if (ne) return labels[ne[1]!.trim()] !== ne[2]!.trim();
      const eq = /^([^!=]+)==?(.*)$/.exec(req);
      if (eq) return labels[eq[1]!.trim()] === eq[2]!.trim();
      if (req.startsWith('!')) return !(req.slice(1) in labels);
      return req in labels;
    });
}
