import pg from 'pg';

/** The channel replicas NOTIFY when they made work claimable; the payload is the notifying replica. */
export const WORK_CHANNEL = 'alertmux_work';

const BACKOFF_FIRST_MS = 500;
const BACKOFF_MAX_MS = 30_000;

/**
 * LISTEN on a dedicated connection and call the listeners when another replica made work claimable. A dropped
 * connection is opened again with a backoff (doubling to 30 s); meanwhile the worker's polling is the backstop,
 * and a reconnect calls the listeners once (what was notified while it was down is not known).
 */
export class WorkListener {
  private readonly listeners = new Set<() => void>();
  private client: pg.Client | undefined;
  private timer: NodeJS.Timeout | undefined;
  private backoff = BACKOFF_FIRST_MS;
  private closed = false;
  private connecting = false;

  constructor(
    private readonly config: pg.ClientConfig,
    private readonly replica: string,
    private readonly onError: (err: unknown) => void,
  ) {}

  /** Connect and LISTEN (a failure is retried in the background). */
  start(): Promise<void> {
    return this.connect(false);
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private fire(): void {
    for (const listener of this.listeners) listener();
  }

  private async connect(again: boolean): Promise<void> {
    if (this.closed) return;
    this.connecting = true;
    const client = new pg.Client(this.config);
    client.on('error', (err) => this.drop(client, err));
    client.on('end', () => this.drop(client, undefined));
    client.on('notification', (msg) => {
      if (msg.channel === WORK_CHANNEL && msg.payload !== this.replica) this.fire();
    });
    try {
      await client.connect();
      await client.query(`LISTEN ${WORK_CHANNEL}`);
      this.connecting = false;
      if (this.closed) return void client.end().catch(() => {});
      this.client = client;
      this.backoff = BACKOFF_FIRST_MS;
      if (again) this.fire();
    } catch (err) {
      this.connecting = false;
      this.onError(err);
      client.removeAllListeners('end');
      void client.end().catch(() => {});
      this.retry();
    }
  }

  private drop(client: pg.Client, err: unknown): void {
    if (this.client !== client) return;
    this.client = undefined;
    if (err !== undefined) this.onError(err);
    this.retry();
  }

  private retry(): void {
    if (this.closed || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.connect(true);
    }, this.backoff);
    this.timer.unref();
    this.backoff = Math.min(this.backoff * 2, BACKOFF_MAX_MS);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.listeners.clear();
    if (this.timer) clearTimeout(this.timer);
    const client = this.client;
    this.client = undefined;
    await client?.end().catch(() => {});
  }
}
