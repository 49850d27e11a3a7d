import Database from 'better-sqlite3';
import { attemptFromRow, deliveryFromRow, notificationFromRow, type AttemptRow, type DeliveryRow, type NotificationRow } from './rows.js';
import { ledgerOpenError } from './open-error.js';
import type { DedupExport, LedgerExport } from './ledger.js';

/** Deliveries per page of an export. */
export const EXPORT_PAGE = 500;

/**
 * Reads an SQLite ledger file for `migrate-storage`, read-only (the file must exist and no alertmux may be writing
 * it: stop it first). `pages(now)` yields what must move, in arrival order.
 */
export class SqliteExport {
  private readonly db: Database.Database;

  constructor(path: string) {
    try {
      this.db = new Database(path, { readonly: true, fileMustExist: true });
      this.db.pragma('query_only = ON');
    } catch (err) {
      throw ledgerOpenError(path, err);
    }
  }

  /** Counts of what will move: pending and dead deliveries. */
  counts(): { pending: number; dead: number } {
    const rows = this.db.prepare(`SELECT state, count(*) AS n FROM deliveries WHERE state IN ('pending', 'dead') GROUP BY state`).all() as Array<{ state: string; n: number }>;
    return { pending: rows.find((r) => r.state === 'pending')?.n ?? 0, dead: rows.find((r) => r.state === 'dead')?.n ?? 0 };
  }

  /** The pages of the export; correlation state unexpired at `now`. */
  *pages(now: number, size = EXPORT_PAGE): Generator<LedgerExport> {
    const deliveries = this.db.prepare(`SELECT * FROM deliveries WHERE state IN ('pending', 'dead') AND seq > ? ORDER BY seq LIMIT ?`);
    const notification = this.db.prepare(`SELECT * FROM notifications WHERE id = ?`);
    const attempts = this.db.prepare(`SELECT * FROM delivery_attempts WHERE delivery_id = ? ORDER BY attempt, started_at`);
    let after = 0;
    let first = true;
    for (;;) {
      const rows = deliveries.all(after, size) as DeliveryRow[];
      const page: LedgerExport = { notifications: [], deliveries: rows.map(deliveryFromRow), attempts: [], dedup: [], state: [] };
      const seen = new Set<string>();
      for (const d of page.deliveries) {
        if (!seen.has(d.notificationId)) {
          seen.add(d.notificationId);
          const n = notification.get(d.notificationId) as NotificationRow | undefined;
          if (n) page.notifications.push(notificationFromRow(n));
        }
        page.attempts.push(...(attempts.all(d.id) as AttemptRow[]).map(attemptFromRow));
      }
      if (first) {
        page.dedup = this.dedup();
        page.state = this.db.prepare(`SELECT key, value, expires_at AS expiresAt FROM target_state WHERE expires_at >= ?`).all(now) as LedgerExport['state'];
        first = false;
      }
      const last = rows.at(-1);
      if (rows.length === size && last) page.next = last.seq;
      yield page;
      if (page.next === undefined) return;
      after = page.next;
    }
  }

  close(): void {
    this.db.close();
  }

  private dedup(): DedupExport[] {
    const rows = this.db.prepare(`SELECT * FROM dedup_state`).all() as Array<{
      receiver: string;
      group_key: string;
      target: string;
      firing: string;
      resolved: string;
      accepted_at: number;
      duplicates: number;
    }>;
    return rows.map((r) => ({
      receiver: r.receiver,
      groupKey: r.group_key,
      target: r.target,
      firing: JSON.parse(r.firing) as string[],
      resolved: JSON.parse(r.resolved) as string[],
      at: r.accepted_at,
      duplicates: r.duplicates,
    }));
  }
}
