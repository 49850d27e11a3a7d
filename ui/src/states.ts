import type { TargetEntry } from './types.js';

/** What a target's result is, in a word: delivered, failed (dead letter), retrying, queued or skipped; from a delivery state (list) or a dispatch-result state (detail). */
export function chipState(e: Pick<TargetEntry, 'state' | 'queued' | 'deadLettered' | 'skipReason' | 'attempts' | 'lastReason'>): { label: string; tone: string } {
  switch (e.state) {
    case 'delivered':
    case 'succeeded':
      return { label: 'delivered', tone: 'ok' };
    case 'dead':
      return { label: 'failed', tone: 'bad' };
    case 'failed':
      return e.queued ? { label: 'retrying', tone: 'warn' } : { label: 'failed', tone: 'bad' };
    case 'pending':
      if (e.skipReason) return { label: `queued (${e.skipReason})`, tone: 'warn' };
      return e.attempts > 0 && e.lastReason ? { label: 'retrying', tone: 'warn' } : { label: 'queued', tone: 'warn' };
    case 'skipped':
    case 'superseded':
      return e.queued ? { label: `queued (${e.skipReason ?? 'skipped'})`, tone: 'warn' } : { label: `skipped (${e.skipReason ?? e.state})`, tone: 'neutral' };
    default:
      return { label: e.state, tone: 'neutral' };
  }
}
