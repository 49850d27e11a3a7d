import type { BulkFilter } from '../types.js';

/** The WHERE clause of a bulk replay or delete (as the SQLite ledger's): ids match dead and pending, else `state` (dead). */
export function bulkWhere(filter: BulkFilter): { where: string; params: unknown[] } {
  const params: unknown[] = [];
  const clauses = [filter.ids ? `state IN ('dead', 'pending')` : filter.state === 'pending' ? `state = 'pending'` : `state = 'dead'`];
  if (filter.ids) {
    params.push(filter.ids);
    clauses.push(`id = ANY($${params.length})`);
  }
  if (filter.target !== undefined) {
    params.push(filter.target);
    clauses.push(`target = $${params.length}`);
  }
  if (filter.since !== undefined) {
    params.push(filter.since);
    clauses.push(`created_at >= $${params.length}`);
  }
  return { where: clauses.join(' AND '), params };
}

/**
 * A correlation-state key as PostgreSQL stores it: its text cannot hold NUL, which alertmux's keys use as a
 * separator (`target\0key`), so NUL is stored as U+2400 (the symbol for NUL; a target name cannot hold it either).
 */
export const stateKey = (key: string): string => key.split('\u0000').join('\u2400');
/** A key as stored, back as alertmux writes it. */
export const fromStateKey = (stored: string): string => stored.split('\u2400').join('\u0000');
