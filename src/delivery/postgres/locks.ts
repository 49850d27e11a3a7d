import pg from 'pg';
import type { ExclusiveJob } from '../ledger.js';

/**
 * The jobs that run on one replica at a time: a session advisory lock per job on a dedicated connection, held
 * until close() or until the replica dies (its connection goes, PostgreSQL releases the locks). A lost connection
 * loses the locks: the next call connects again and competes anew.
 */
export class JobLocks {
  private client: pg.Client | undefined;
  private connecting: Promise<pg.Client> | undefined;
  private readonly held = new Set<ExclusiveJob>();

  constructor(
    private readonly config: pg.ClientConfig,
    private readonly onError: (err: unknown) => void,
  ) {}

  private connection(): Promise<pg.Client> {
    if (this.client) return Promise.resolve(this.client);
    this.connecting ??= (async () => {
      const client = new pg.Client(this.config);
      const lost = (err?: unknown) => {
        if (this.client !== client) return;
        this.client = undefined;
        this.held.clear();
        if (err !== undefined) this.onError(err);
      };
      client.on('error', lost);
      client.on('end', () => lost());
      try {
        await client.connect();
        this.client = client;
        return client;
      } catch (err) {
        void client.end().catch(() => {});
        throw err;
      } finally {
        this.connecting = undefined;
      }
    })();
    return this.connecting;
  }

  /** Whether this replica holds `job`'s lock (taking it when free). */
  async exclusive(job: ExclusiveJob): Promise<boolean> {
    const client = await this.connection();
    if (this.held.has(job)) {
      // Still connected? A connection that died unnoticed would make two replicas believe they run the job.
      await client.query('SELECT 1');
      if (this.held.has(job)) return true;
    }
    const { rows } = await client.query<{ locked: boolean }>(`SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS locked`, [`alertmux job ${job}`]);
    const locked = rows[0]?.locked === true;
    if (locked && this.client === client) this.held.add(job);
    return locked;
  }

  async close(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    this.held.clear();
    // Ending the session releases its advisory locks.
    await client?.end().catch(() => {});
  }
}
