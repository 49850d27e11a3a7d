import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request a recording target received: which notification (group key and status) and how it was answered. */
export interface RecordedRequest {
  groupKey: string;
  /** The payload's `status`: `firing` or `resolved`. */
  status: string;
  /** Position of its arrival among every arrival and answer of this target (a total order of events). */
  arrived: number;
  /** Position of its answer in the same order; undefined while it is unanswered. */
  answered?: number;
  /** The status code it was answered with (or will be). */
  code: number;
}

/** How a recording target answers a request: a status code after an optional delay. */
export type RecorderReply = (req: { groupKey: string; status: string; nth: number }) => { code: number; delayMs?: number };

/**
 * A real HTTP server on 127.0.0.1 (port 0) that records every request with the notification it carries
 * (an Alertmanager payload, as webhook targets forward it) and the order of arrivals and answers.
 */
export interface RecordingTarget {
  url: string;
  requests: RecordedRequest[];
  reply: RecorderReply;
  /** Requests received and not answered yet. */
  open(): number;
  /** How many times each group key was received (any answer), with `status` if given. */
  counts(status?: string): Map<string, number>;
  /** Group keys answered with a 2xx. */
  delivered(): Set<string>;
  /** Requests beyond the first for each group key and status (what a healthy target received twice). */
  duplicates(): number;
  close(): Promise<void>;
}

export async function recordingTarget(reply: RecorderReply = () => ({ code: 200 })): Promise<RecordingTarget> {
  let clock = 0;
  const requests: RecordedRequest[] = [];
  const target: RecordingTarget = {
    url: '',
    requests,
    reply,
    open: () => requests.filter((r) => r.answered === undefined).length,
    counts(status) {
      const counts = new Map<string, number>();
      for (const r of requests) if (status === undefined || r.status === status) counts.set(r.groupKey, (counts.get(r.groupKey) ?? 0) + 1);
      return counts;
    },
    delivered: () => new Set(requests.filter((r) => r.answered !== undefined && r.code >= 200 && r.code < 300).map((r) => r.groupKey)),
    duplicates() {
      const seen = new Map<string, number>();
      for (const r of requests) seen.set(`${r.status} ${r.groupKey}`, (seen.get(`${r.status} ${r.groupKey}`) ?? 0) + 1);
      return [...seen.values()].reduce((sum, n) => sum + n - 1, 0);
    },
    close: async () => undefined,
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      let groupKey = '';
      let status = '';
      try {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { groupKey?: unknown; status?: unknown };
        groupKey = String(body.groupKey);
        status = String(body.status);
      } catch {
        // Not an Alertmanager payload: recorded with empty identity, which matches no notification.
      }
      const nth = requests.filter((r) => r.groupKey === groupKey && r.status === status).length;
      const answer = target.reply({ groupKey, status, nth });
      const recorded: RecordedRequest = { groupKey, status, arrived: ++clock, code: answer.code };
      requests.push(recorded);
      const send = () => {
        recorded.answered = ++clock;
        res.writeHead(answer.code, { 'content-type': 'text/plain' }).end(answer.code < 300 ? 'ok' : 'failing on purpose');
      };
      if (answer.delayMs) setTimeout(send, answer.delayMs);
      else send();
    });
  });
  server.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  target.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  target.close = () =>
    new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return target;
}
