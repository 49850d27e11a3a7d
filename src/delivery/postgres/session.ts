import pg from 'pg';
import { clientConfig, type ConnectionOptions } from './connection.js';

/** Backoff of a dedicated connection's reconnects: 0.5 s doubling to 15 s. */
const RECONNECT_MIN_MS = 500;
const RECONNECT_MAX_MS = 15_000;

/**
 * A dedicated connection that outlives pool checkouts, for what is bound to a session: LISTEN, and the session
 * advisory locks of the jobs that run on one replica at a time. It reconnects with backoff when the connection
 * drops (then `onConnect` runs again: LISTEN again; locks are lost with the session and taken again on demand).
 */
export class Session {
  private client?: pg.Client;
  private connecting?: Promise<pg.Client>;
  private timer?: NodeJS.Timeout;
  private delay = RECONNECT_MIN_MS;
  private closed = false;

  constructor(
    private readonly options: ConnectionOptions,
    private readonly hooks: { onConnect?: (client: pg.Client) => Promise<void>; onLost?: () => void; onError?: (err: unknown) => void } = {},
  ) {}

  /** The connected client, connecting if needed; rejects when the database cannot be reached now. */
  get(): Promise<pg.Client> {
    if (this.closed) return Promise.reject(new Error('the ledger is closed'));
    if (this.client) return Promise.resolve(this.client);
    return (this.connecting ??= this.connect().finally(() => (this.connecting = undefined)));
  }

  /** Keep a connection up: connect now, and again after each loss (for LISTEN). */
  keep(): void {
    this.get().catch((err: unknown) => {
      this.hooks.onError?.(err);
      this.retry();
    });
  }

  private async connect(): Promise<pg.Client> {
    const client = new pg.Client(clientConfig(this.options));
    const lost = () => {
      if (this.client !== client) return;
      this.client = undefined;
      this.hooks.onLost?.();
      if (this.kept) this.retry();
    };
    client.on('error', (err) => {
      this.hooks.onError?.(err);
      lost();
    });
    client.on('end', lost);
    try {
      await client.connect();
      await this.hooks.onConnect?.(client);
    } catch (err) {
      await client.end().catch(() => {});
      throw err;
    }
    this.client = client;
    this.delay = RECONNECT_MIN_MS;
    return client;
  }

  /** Whether this session reconnects by itself (LISTEN) rather than on demand (locks). */
  private get kept(): boolean {
    return this.hooks.onConnect !== undefined;
  }

  private retry(): void {
    if (this.closed || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.keep();
    }, this.delay);
    this.timer.unref();
    this.delay = Math.min(this.delay * 2, RECONNECT_MAX_MS);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    const client = this.client ?? (await this.connecting?.catch(() => undefined));
    this.client = undefined;
    await client?.end().catch(() => {});
  }
}
