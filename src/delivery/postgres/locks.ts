import pg from 'pg';
import type { ExclusiveJob } from '../ledger.js';

/**
 * The jobs that run on one replica at a time: a session advisory lock per job on a dedicated connection, held until
 * the ledger closes or the replica dies (the connection goes, and PostgreSQL releases the lock). After the connection
 * drops, the next `exclusive` call connects again and tries to take the lock anew.
 */
export class JobLocks {
  private client: pg.Client | undefined;
  private readonly held = new Set<ExclusiveJob>();

  constructor(private readonly deps: { config: pg.ClientConfig; schema: string; failed(err: unknown): void }) {}

  async exclusive(job: ExclusiveJob): Promise<boolean> {
    if (this.held.has(job) && this.client) return true;
    const client = await this.connection();
    const { rows } = await client.query<{ taken: boolean }>(`SELECT pg_try_advisory_lock(hashtextextended($1, 0)) AS taken`, [
      `alertmux-job:${this.deps.schema}:${job}`,
    ]);
    const taken = rows[0]?.taken === true;
    if (taken) this.held.add(job);
    return taken;
  }

  private async connection(): Promise<pg.Client> {
    if (this.client) return this.client;
    const client = new pg.Client(this.deps.config);
    const dropped = (err?: unknown) => {
      if (this.client !== client) return;
      // The session is gone and with it every lock it held.
      this.client = undefined;
      this.held.clear();
      if (err) this.deps.failed(err);
    };
    client.on('error', dropped);
    client.on('end', () => dropped());
    await client.connect();
    this.client = client;
    return client;
  }

  async close(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    this.held.clear();
    await client?.end().catch(() => {});
  }
}
