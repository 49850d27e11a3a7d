import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually, loopbackTarget, refusedPort, type LoopbackTarget } from '../helpers/servers.js';
import { fixture } from '../helpers/fixtures.js';
import { startService, type Service } from './process.js';

/**
 * The attempt history through the built service: a file ledger (its writer thread records the attempts), the
 * replica named by ALERTMUX_REPLICA, and the history still there after a restart.
 */
describe('the attempt history (child process of the built service)', function () {
  this.timeout(120_000);
  const dir = mkdtempSync(join(tmpdir(), 'alertmux-attempts-e2e-'));
  let service: Service | undefined;
  let target: LoopbackTarget | undefined;
  afterEach(async () => {
    service?.child.kill('SIGKILL');
    if (service) await service.exited;
    service = undefined;
    await target?.close();
  });
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('records each attempt with the replica, in the ledger file, across a restart', async () => {
    const statuses = [503];
    target = await loopbackTarget(() => ({ status: statuses.shift() ?? 200 }));
    const config = join(dir, 'alertmux.yml');
    writeFileSync(
      config,
      `storage: {path: "${join(dir, 'ledger.db')}"}
retry: {initial_backoff: 50ms, max_backoff: 100ms}
targets:
  - {name: t, type: webhook, url: "${target.url}"}
`,
    );
    const get = async (path: string) => (await fetch(`${service!.base}${path}`)).json() as Promise<Record<string, unknown>>;
    service = await startService(config, await refusedPort(), { ALERTMUX_REPLICA: 'alertmux-e2e-0' });
    const res = await fetch(`${service.base}/webhook`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(fixture('am025-firing-1-firing-noauth.json')) });
    const id = ((await res.json()) as { targets: Array<{ deliveryId: string }> }).targets[0]?.deliveryId ?? '';
    await eventually(async () => (await get(`/api/v1/deliveries/${id}`))['state'] === 'delivered', 'delivered after one retry', 30_000);
    const history = (d: Record<string, unknown>) => (d['attemptHistory'] as Array<Record<string, unknown>>).map((a) => [a['attempt'], a['statusCode'], a['replica'], a['outcome']]);
    const expected = [
      [1, 503, 'alertmux-e2e-0', 'pending'],
      [2, 200, 'alertmux-e2e-0', 'delivered'],
    ];
    expect(history(await get(`/api/v1/deliveries/${id}`))).to.deep.equal(expected);

    service.child.kill('SIGTERM');
    expect(await service.exited).to.equal(0);
    service = await startService(config, await refusedPort());
    expect(history(await get(`/api/v1/deliveries/${id}`))).to.deep.equal(expected);
  });
});
