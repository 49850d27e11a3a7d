import pg from 'pg';

/** The channel replicas NOTIFY when a commit made work claimable; the payload is the replica that committed. */
export const WORK_CHANNEL = 'alertmux_work';

const BACKOFF_FIRST_MS = 500;
const BACKOFF_MAX_MS = 10_000;

/**
 * LISTEN on a dedicated connection (opened at the first subscriber) and call the listeners when another replica
 * made work claimable. When the connection drops it reconnects with backoff; the worker's polling is the backstop
 * for what is missed meanwhile.
 */
export class WorkListener {
  private readonly listeners = new Set<() => void>();
  private client: pg.Client | undefined;
  private retry: NodeJS.Timeout | undefined;
  private backoff = BACKOFF_FIRST_MS;
  private closed = false;

  constructor(
    private readonly deps: { config: pg.ClientConfig; replica: string; schema: string; failed(err: unknown): void },
  ) {}

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    if (!this.client && !this.retry) void this.connect();
    return () => this.listeners.delete(listener);
  }

  private async connect(): Promise<void> {
    this.retry = undefined;
    if (this.closed) return;
    const client = new pg.Client(this.deps.config);
    this.client = client;
    const dropped = (err?: unknown) => {
      if (this.client !== client) return;
      this.client = undefined;
      if (err) this.deps.failed(err);
      void client.end().catch(() => {});
      if (this.closed) return;
      this.retry = setTimeout(() => void this.connect(), this.backoff);
      this.retry.unref();
      this.backoff = Math.min(this.backoff * 2, BACKOFF_MAX_MS);
    };
    client.on('error', dropped);
    client.on('end', () => dropped());
    client.on('notification', (msg) => {
      // Our own commits: this process already knows (its worker is kicked in-process). Other schemas share the channel.
      if (msg.payload === `${this.deps.schema}:${this.deps.replica}` || !msg.payload?.startsWith(`${this.deps.schema}:`)) return;
      for (const listener of this.listeners) listener();
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${WORK_CHANNEL}`);
      this.backoff = BACKOFF_FIRST_MS;
      // Whatever was committed while we were away: look once.
      for (const listener of this.listeners) listener();
    } catch (err) {
      dropped(err);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.retry) clearTimeout(this.retry);
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => {});
  }
}
