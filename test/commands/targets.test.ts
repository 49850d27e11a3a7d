import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { targetsCommand } from '../../src/commands/targets.js';
import { main } from '../../src/cli.js';
import { fixture } from '../helpers/fixtures.js';
import { loopbackTarget, refusedPort, startApp, type LoopbackTarget, type TestApp } from '../helpers/servers.js';
import type { CommandIO } from '../../src/commands/send-test.js';

describe('alertmux targets', () => {
  let app: TestApp;
  let broken: LoopbackTarget;
  let out: string[];
  let err: string[];
  const io = (env: Record<string, string> = {}): CommandIO => ({ out: (s) => out.push(s), err: (s) => err.push(s), env, now: Date.now });

  beforeEach(async () => {
    broken = await loopbackTarget(() => ({ status: 503, body: 'down for maintenance' }));
    app = await startApp(
      `admin: {bearer_token: adm-9c2f}\nstorage: {path: ':memory:'}\nhealth: {unhealthy_after: 1}\nbreaker: {consecutive_failures: 1, cooldown: 30s}\nretry: {initial_backoff: 1h}\n` +
        `targets:\n  - {name: logs, type: log}\n  - {name: legacy, type: webhook, url: '${broken.url}/hook'}\n  - {name: spare, type: log, enabled: false}\n`,
    );
    out = [];
    err = [];
  });

  afterEach(async () => {
    await app.close();
    await broken.close();
  });

  it('lists the live targets of a running alertmux with health, breaker state and last error', async () => {
    expect((await app.post('/webhook', fixture())).status).to.equal(202);
    expect(await targetsCommand(['--url', app.base, '--token', 'adm-9c2f'], io())).to.equal(0);
    const lines = out.join('\n').split('\n');
    expect(lines[0]).to.match(/^NAME\s+TYPE\s+ENABLED\s+HEALTH\s+BREAKER\s+LAST SUCCESS\s+LAST ERROR$/);
    expect(lines[1]).to.match(/^logs\s+log\s+yes\s+healthy\s+closed\s+\d+s ago\s+-$/);
    expect(lines[2]).to.match(/^legacy\s+webhook\s+yes\s+unhealthy\s+open \(trial in \d+s\)\s+-\s+\d+s ago: .*503: down for maintenance$/);
    expect(lines[3]).to.match(/^spare\s+log\s+no\s+unknown\s+closed\s+-\s+-$/);
  });

  it('prints the API answer as JSON with --json', async () => {
    expect(await targetsCommand(['--url', `${app.base}/`, '--token', 'adm-9c2f', '--json'], io())).to.equal(0);
    const json = JSON.parse(out.join('\n')) as { targets: Array<{ name: string; health: string; breaker: { state: string } }> };
    expect(json.targets.map((t) => [t.name, t.health, t.breaker.state])).to.deep.equal([
      ['logs', 'unknown', 'closed'],
      ['legacy', 'unknown', 'closed'],
      ['spare', 'unknown', 'closed'],
    ]);
  });

  it('takes the admin token from ALERTMUX_ADMIN_TOKEN', async () => {
    expect(await targetsCommand(['--url', app.base], io({ ALERTMUX_ADMIN_TOKEN: 'adm-9c2f' }))).to.equal(0);
    expect(out.join('\n')).to.contain('legacy');
  });

  it('exits 1 and asks for the token when alertmux answers 401', async () => {
    expect(await targetsCommand(['--url', app.base], io())).to.equal(1);
    expect(err.join('\n')).to.match(/401 unauthorized \(pass the admin token with --token or ALERTMUX_ADMIN_TOKEN\)/);
  });

  it('exits 1 when nothing listens at the URL', async () => {
    const port = await refusedPort();
    expect(await targetsCommand(['--url', `http://127.0.0.1:${port}`], io())).to.equal(1);
    expect(err.join('\n')).to.equal(`cannot reach alertmux at http://127.0.0.1:${port}: ECONNREFUSED`);
  });

  it('exits 1 when the URL answers something that is not a targets list', async () => {
    const other = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"success"}'));
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(other.address() as AddressInfo).port}`;
      expect(await targetsCommand(['--url', url], io())).to.equal(1);
      expect(err.join('\n')).to.equal(`${url}/api/v1/targets: not an alertmux targets list`);
    } finally {
      other.closeAllConnections();
      await new Promise((resolve) => other.close(resolve));
    }
  });

  it('is dispatched by the alertmux command line', async () => {
    expect(await main(['targets', '--help'], (s) => out.push(s), (s) => err.push(s))).to.equal(0);
    expect(out.join('\n')).to.contain('Usage: alertmux targets');
    expect(await main(['targets', '--bogus'], (s) => out.push(s), (s) => err.push(s))).to.equal(2);
  });
});
