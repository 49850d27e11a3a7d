import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * One request a recording target received. Each replica's config points the target at its own path
 * (`/from-<replica>/...`), so a request says which replica sent it; the body (Alertmanager's webhook payload, as the
 * `webhook` target forwards it) says which notification it carries.
 */
export interface Received {
  /** The replica that sent it (the path's `from-<replica>` segment; '' when the path has none). */
  from: string;
  path: string;
  groupKey: string;
  /** `firing` or `resolved`. */
  status: string;
  /** The status code answered. */
  code: number;
  receivedAt: number;
  /** When the answer was written (undefined while it is held, or if the connection died first). */
  answeredAt?: number;
}

/** What to answer a request: a status, after an optional delay. */
export type Answer = { status: number; delayMs?: number };

/** A real `node:http` server on 127.0.0.1 (port 0) that records every webhook it receives, with its notification. */
export interface RecordingTarget {
  /** http://127.0.0.1:PORT */
  url: string;
  received: Received[];
  /** Requests answered 2xx: the deliveries the target acknowledged. */
  acknowledged(): Received[];
  /** How many 2xx answers each group key got. */
  countsByGroup(): Map<string, number>;
  /** 2xx answers beyond the first per group key and status: deliveries made twice. */
  duplicates(): number;
  close(): Promise<void>;
}

/** Start a recording target answering `answer(request)` (default 200 at once). */
export async function recordingTarget(answer: (req: Received) => Answer = () => ({ status: 200 })): Promise<RecordingTarget> {
  const received: Received[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const path = req.url ?? '/';
      let body: { groupKey?: unknown; status?: unknown } = {};
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as typeof body;
      } catch {
        // Not JSON (no notification): recorded with an empty group key.
      }
      const entry: Received = {
        from: /^\/from-([^/]+)\//.exec(path)?.[1] ?? '',
        path,
        groupKey: typeof body.groupKey === 'string' ? body.groupKey : '',
        status: typeof body.status === 'string' ? body.status : '',
        code: 0,
        receivedAt: Date.now(),
      };
      const { status, delayMs } = answer(entry);
      entry.code = status;
      received.push(entry);
      const send = () => res.writeHead(status, { 'content-type': 'text/plain' }).end(String(status), () => (entry.answeredAt = Date.now()));
      if (delayMs) setTimeout(send, delayMs);
      else send();
    });
  });
  server.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const acknowledged = () => received.filter((r) => r.code >= 200 && r.code < 300 && r.groupKey !== '');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received,
    acknowledged,
    countsByGroup() {
      const counts = new Map<string, number>();
      for (const r of acknowledged()) counts.set(r.groupKey, (counts.get(r.groupKey) ?? 0) + 1);
      return counts;
    },
    duplicates() {
      const seen = new Set<string>();
      let twice = 0;
      for (const r of acknowledged()) {
        const key = `${r.status} ${r.groupKey}`;
        if (seen.has(key)) twice++;
        else seen.add(key);
      }
      return twice;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
