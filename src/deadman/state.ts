import type { PageFacts } from './page.js';
import type { Ledger } from '../delivery/ledger.js';

/** What the switch keeps across restarts. Times are milliseconds since the epoch. */
export interface DeadmanState {
  /** The last heartbeat seen (to the second: see DeadmanSwitch); absent until the first. */
  lastHeartbeatAt?: number;
  /** The open page: what it said and which targets it went to (its resolve goes to the same ones). */
  page?: PageFacts & { targets: string[] };
}

/**
 * Where the state is kept (answers may come later: the ledger is asynchronous). `load` fails on a record it cannot
 * read. The page is written only by the replica that runs the switch (`save`); every replica records the heartbeats
 * it sees (`saveHeartbeat`) apart from it, so that a replica whose view of the page is stale never overwrites it.
 */
export interface DeadmanStateStore {
  /** The page as the switch last recorded it, and the newest heartbeat any replica recorded. */
  load(): DeadmanState | Promise<DeadmanState>;
  save(state: DeadmanState): void | Promise<void>;
  saveHeartbeat(at: number): void | Promise<void>;
  clear(): void | Promise<void>;
}

/** The rows of the ledger's key-value table (target_state). Target keys are `name\0key`, and a name has no ':'. */
export const DEADMAN_STATE_KEY = 'alertmux:deadman';
export const DEADMAN_HEARTBEAT_KEY = 'alertmux:deadman:heartbeat';
/** The row never expires (pruning removes expired rows only). */
const NEVER = Number.MAX_SAFE_INTEGER;

/** The switch's state in the ledger's key-value table, so it survives restarts with the deliveries. */
export function ledgerDeadmanState(store: Pick<Ledger, 'stateGet' | 'stateSet' | 'stateDelete'>, now: () => number): DeadmanStateStore {
  return {
    load: async () => {
      const [text, heartbeat] = await Promise.all([store.stateGet(DEADMAN_STATE_KEY, now()), store.stateGet(DEADMAN_HEARTBEAT_KEY, now())]);
      const state = text === undefined ? {} : parseState(text);
      const seen = Number(heartbeat);
      if (heartbeat !== undefined && Number.isFinite(seen) && seen > (state.lastHeartbeatAt ?? -Infinity)) state.lastHeartbeatAt = seen;
      return state;
    },
    save: (state) => store.stateSet(DEADMAN_STATE_KEY, JSON.stringify(state), NEVER),
    saveHeartbeat: (at) => store.stateSet(DEADMAN_HEARTBEAT_KEY, String(at), NEVER),
    clear: async () => {
      await store.stateDelete(DEADMAN_STATE_KEY);
      await store.stateDelete(DEADMAN_HEARTBEAT_KEY);
    },
  };
}

/** A stored state, checked field by field (a hand-edited or half-written row must not page on garbage). */
export function parseState(text: string): DeadmanState {
  const raw = JSON.parse(text) as Record<string, unknown>;
  const isTime = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0;
  const state: DeadmanState = {};
  if (isTime(raw['lastHeartbeatAt'])) state.lastHeartbeatAt = raw['lastHeartbeatAt'];
  const page = raw['page'] as Record<string, unknown> | undefined;
  if (page !== undefined) {
    const { since, lastHeartbeatAt, timeout, match, targets } = page;
    const strings = (v: unknown): v is string[] => Array.isArray(v) && v.every((s) => typeof s === 'string');
    if (!isTime(since) || !isTime(lastHeartbeatAt) || !isTime(timeout) || !strings(match) || !strings(targets)) {
      throw new Error('the stored open page is malformed');
    }
    state.page = { since, lastHeartbeatAt, timeout, match, targets };
  }
  return state;
}
