import { performance } from 'node:perf_hooks';
import { Agent, request } from 'undici';
import type { WebhookMessage } from '../../src/alerts/types.js';

/** One post of a notification: where it went and the answer (0: no answer, the connection failed or was cut). */
export interface Post {
  base: string;
  status: number;
  /** How long the answer took (ms). */
  ms: number;
  /** The dispatch result of a 2xx answer (its `id`, each target's `state` and `skipReason`). */
  result?: DispatchAnswer;
}

/** The parts of a 2xx answer to a webhook the tests read. */
export interface DispatchAnswer {
  id: string;
  targets: Array<{ target: string; state: string; skipReason?: string }>;
}

/** POST a webhook payload; the status code (0 when no answer came: refused, reset, the process is gone) and a 2xx's result. */
export async function postWebhook(client: Agent, base: string, msg: WebhookMessage): Promise<Post> {
  const started = performance.now();
  try {
    const res = await request(`${base}/webhook`, {
      dispatcher: client,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(msg),
    });
    const text = await res.body.text();
    const result = acknowledged(res.statusCode) ? (JSON.parse(text) as DispatchAnswer) : undefined;
    return { base, status: res.statusCode, ms: performance.now() - started, result };
  } catch {
    return { base, status: 0, ms: performance.now() - started };
  }
}

/** The median and the largest of `values` (ms, rounded), for the test output. */
export function spread(values: number[]): string {
  if (!values.length) return 'none';
  const sorted = [...values].sort((x, y) => x - y);
  return `p50 ${Math.round(sorted[Math.floor(sorted.length / 2)] ?? 0)} ms, max ${Math.round(sorted[sorted.length - 1] ?? 0)} ms`;
}

export const acknowledged = (status: number): boolean => status >= 200 && status < 300;

export interface LoadOptions {
  client: Agent;
  /** Notifications per second, started on a schedule (not one after another), whatever the answers take. */
  rate: number;
  /** Notification `i`. */
  message(i: number): WebhookMessage;
  /** Where notification `i` goes first; `undefined` stops the load. */
  route(i: number): string | undefined;
  /**
   * Where to post it again after no answer at all from `base` (as Alertmanager retries behind a Service whose
   * pod died); undefined: not again.
   */
  failover?(i: number, base: string): string | undefined;
}

/** A load generator: notification 0, 1, 2, ... at `rate` per second until stopped, each answer recorded. */
export interface Load {
  /** Every post of notification `i`, in order. */
  posts: Map<number, Post[]>;
  /** The notifications at least one post of which was answered 2xx (alertmux took responsibility). */
  acknowledged(): number[];
  /** Posts answered with `status`. */
  count(status: number): number;
  /** Stop starting new notifications; resolves once every post started has its answer. */
  stop(): Promise<void>;
}

export function startLoad(options: LoadOptions): Load {
  const posts = new Map<number, Post[]>();
  const pending = new Set<Promise<void>>();
  let stopped = false;
  const send = async (i: number, base: string): Promise<void> => {
    const post = await postWebhook(options.client, base, options.message(i));
    posts.get(i)?.push(post);
    const again = post.status === 0 ? options.failover?.(i, base) : undefined;
    if (again !== undefined) await send(i, again);
  };
  const started = Date.now();
  let next = 0;
  // Catch up on the schedule each tick: a loaded machine delays timers, not the rate.
  const tick = () => {
    const due = Math.floor(((Date.now() - started) * options.rate) / 1000);
    while (!stopped && next <= due) {
      const i = next++;
      const base = options.route(i);
      if (base === undefined) {
        stopped = true;
        break;
      }
      posts.set(i, []);
      const p = send(i, base).finally(() => pending.delete(p));
      pending.add(p);
    }
    if (!stopped) timer = setTimeout(tick, 5);
  };
  let timer = setTimeout(tick, 0);
  return {
    posts,
    acknowledged: () => [...posts].filter(([, p]) => p.some((x) => acknowledged(x.status))).map(([i]) => i),
    count: (status) => [...posts.values()].reduce((n, p) => n + p.filter((x) => x.status === status).length, 0),
    async stop() {
      stopped = true;
      clearTimeout(timer);
      while (pending.size > 0) await Promise.all([...pending]);
    },
  };
}
