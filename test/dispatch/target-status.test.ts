import { expect } from 'chai';
import { TargetStatuses, type PauseStore } from '../../src/dispatch/target-status.js';

/** The ledger's key-value state as two replicas share it (expiry honoured as the ledger does). */
function sharedState(): PauseStore {
  const rows = new Map<string, { value: string; expiresAt: number }>();
  return {
    stateGet: async (key, now) => {
      const row = rows.get(key);
      return row && row.expiresAt >= now ? row.value : undefined;
    },
    stateSet: async (key, value, expiresAt) => void rows.set(key, { value, expiresAt }),
    stateDelete: async (key) => void rows.delete(key),
  };
}

describe('target pause flags across replicas', () => {
  const now = () => Date.parse('2026-12-06T12:00:00Z');

  it('follows a pause and a resume made on another replica, with a transition each, and reports only what changed', async () => {
    const store = sharedState();
    const a = new TargetStatuses(store, now);
    const b = new TargetStatuses(store, now);
    await a.load(['pd', 'slack']);
    await b.load(['pd', 'slack']);
    expect(await b.pause('pd', '10.0.0.7')).to.equal(true);
    expect(a.of('pd').paused, 'a answers from memory until it refreshes').to.equal(false);

    expect(await a.refresh()).to.deep.equal(['pd']);
    expect(a.of('pd')).to.include({ paused: true, pausedBy: '10.0.0.7', pausedAt: now() });
    expect(a.of('pd').history()[0]).to.include({ kind: 'pause', from: 'active', to: 'paused', reason: 'paused on another replica from 10.0.0.7' });
    expect(await a.refresh(), 'nothing changed since').to.deep.equal([]);

    expect(await b.resume('pd')).to.equal(true);
    expect(await a.refresh()).to.deep.equal(['pd']);
    expect(a.of('pd').paused).to.equal(false);
    expect(a.of('pd').history()[0]).to.include({ from: 'paused', to: 'active', reason: 'resumed on another replica' });
    expect(a.of('slack').paused).to.equal(false);
  });
});
