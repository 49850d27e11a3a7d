import { expect } from 'chai';
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixture } from '../helpers/fixtures.js';
import { loopbackTarget, startApp, type LoopbackTarget, type TestApp } from '../helpers/servers.js';

const SENDERS = 16;
const NOTIFICATIONS = 2000;

describe('a flood of one identical notification (dedup)', function () {
  this.timeout(180_000);
  let dir: string;
  let app: TestApp | undefined;
  const targets: LoopbackTarget[] = [];
  afterEach(async () => {
    await app?.close();
    app = undefined;
    await Promise.all(targets.splice(0).map((t) => t.close()));
    rmSync(dir, { recursive: true, force: true });
  });

  it(`delivers ${NOTIFICATIONS} copies from ${SENDERS} senders once per target, and the ledger does not grow by a payload per duplicate`, async () => {
    dir = mkdtempSync(join(tmpdir(), 'alertmux-flood-'));
    const path = join(dir, 'ledger.db');
    const a = await loopbackTarget();
    const b = await loopbackTarget();
    targets.push(a, b);
    app = await startApp(`storage: {path: ${JSON.stringify(path)}}
targets:
  - {name: a, type: webhook, url: "${a.url}"}
  - {name: b, type: webhook, url: "${b.url}", send_resolved: true}
`);
    const body = fixture();
    const ledger = new Database(path, { readonly: true });
    const notificationsBytes = () =>
      (ledger.prepare(`SELECT SUM(pgsize) AS bytes FROM dbstat WHERE name = 'notifications'`).get() as { bytes: number }).bytes;
    const count = (table: string) => (ledger.prepare(`SELECT COUNT(*) AS n FROM ${table}`).get() as { n: number }).n;

    const first = await app.post('/webhook', body);
    expect(first.body.targets.map((t: { state: string }) => t.state)).to.deep.equal(['succeeded', 'succeeded']);
    await app.mux.dispatcher.flush();
    const bytesAfterFirst = notificationsBytes();

    const states = new Map<string, number>();
    let next = 1;
    await Promise.all(
      Array.from({ length: SENDERS }, async () => {
        while (next++ < NOTIFICATIONS) {
          const res = await app!.post('/webhook', body);
          const key = `${res.status} ${res.body.targets.map((t: { state: string; skipReason?: string }) => `${t.state}:${t.skipReason}`).join(',')}`;
          states.set(key, (states.get(key) ?? 0) + 1);
        }
      }),
    );
    await app.mux.dispatcher.flush();
    expect(Object.fromEntries(states)).to.deep.equal({ '200 skipped:duplicate,skipped:duplicate': NOTIFICATIONS - 1 });
    expect([a.received.length, b.received.length]).to.deep.equal([1, 1]);

    // One notification and one delivery per target, however many duplicates: they are counted, not stored.
    expect(count('notifications')).to.equal(1);
    expect(count('deliveries')).to.equal(2);
    expect(notificationsBytes()).to.equal(bytesAfterFirst);
    const lanes = ledger.prepare(`SELECT target, duplicates FROM dedup_state ORDER BY target`).all();
    expect(lanes).to.deep.equal([
      { target: 'a', duplicates: NOTIFICATIONS - 1 },
      { target: 'b', duplicates: NOTIFICATIONS - 1 },
    ]);
    ledger.close();
    expect((await app.get('/metrics')).text).to.match(new RegExp(`alertmux_deliveries_skipped_total\\{target="a",reason="duplicate"\\} ${NOTIFICATIONS - 1}\\b`));
  });
});
