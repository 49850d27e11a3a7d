import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { labelsFingerprint } from '../../src/alerts/fingerprint.js';
import { sendTestCommand, type CommandIO } from '../../src/commands/send-test.js';
import { TEST_GROUP_KEY } from '../../src/commands/test-alert.js';
import { nopLogger } from '../../src/observability/logger.js';
import { main } from '../../src/cli.js';
import { loopbackTarget, type LoopbackTarget } from '../helpers/servers.js';
import type { WebhookMessage } from '../../src/alerts/types.js';

const NOW = Date.parse('2026-11-22T23:00:00Z');

describe('alertmux send-test', () => {
  let dir: string;
  let ok: LoopbackTarget;
  let broken: LoopbackTarget;
  let out: string[];
  let err: string[];

  const io = (extra: Partial<CommandIO> = {}): CommandIO => ({
    out: (s) => out.push(s),
    err: (s) => err.push(s),
    env: { AUDIT_TOKEN: 'tok-3f9a1c' },
    logger: nopLogger(),
    now: () => NOW,
    stateFile: join(dir, 'state.json'),
    ...extra,
  });

  /** Write a config with the given targets (YAML list items) and return its path. */
  const configFile = (targets: string) => {
    const path = join(dir, 'alertmux.yml');
    writeFileSync(path, `storage: {path: ':memory:'}\ndispatch: {timeout: 2s}\nenrich: {labels: {cluster: test-eu-1}}\ntargets:\n${targets}`);
    return path;
  };
  const bodies = (t: LoopbackTarget) => t.received.map((r) => r.body as WebhookMessage);

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'alertmux-send-test-'));
    ok = await loopbackTarget(() => ({ status: 200 }));
    broken = await loopbackTarget(() => ({ status: 500, body: 'upstream exploded' }));
    out = [];
    err = [];
  });

  afterEach(async () => {
    await ok.close();
    await broken.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('sends a firing AlertmuxTest group to every enabled target and prints a table of results', async () => {
    const config = configFile(`  - {name: audit, type: webhook, url: '${ok.url}/hook', format: alertmux}\n  - {name: logs, type: log}\n`);
    const code = await sendTestCommand(['--config', config], io());
    expect(code).to.equal(0);
    const [msg] = bodies(ok);
    expect(msg?.status).to.equal('firing');
    expect(msg?.groupKey).to.equal(TEST_GROUP_KEY);
    expect(msg?.alerts[0]?.labels).to.deep.include({ alertname: 'AlertmuxTest', severity: 'warning', cluster: 'test-eu-1' });
    expect(msg?.alerts[0]?.annotations['summary']).to.match(/test/i);
    expect(msg?.alerts[0]?.annotations['description']).to.match(/not a real incident/);
    const table = out.join('\n').split('\n');
    expect(table[0]).to.match(/^TARGET\s+TYPE\s+RESULT\s+STATUS\s+DURATION\s+ERROR$/);
    expect(table[1]).to.match(/^audit\s+webhook\s+succeeded\s+200\s+\d+ ms$/);
    expect(table[2]).to.match(/^logs\s+log\s+succeeded\s+-\s+\d+ ms$/);
    expect(err).to.deep.equal(['sending a firing test alert to 2 targets...']);
  });

  it('exits 1 and names the failing target, its status and the reason, without its secrets', async () => {
    const config = configFile(
      `  - {name: audit, type: webhook, url: '${ok.url}/hook'}\n` +
        `  - {name: legacy, type: webhook, url: '${broken.url}/hook?token=url-secret-77', bearer_token: '\${env:AUDIT_TOKEN}'}\n`,
    );
    const code = await sendTestCommand(['--config', config], io());
    expect(code).to.equal(1);
    const text = out.join('\n');
    expect(text).to.match(/legacy\s+webhook\s+failed\s+500\s+\d+ ms\s+serverError: .*upstream exploded/);
    expect(text).not.to.contain('url-secret-77');
    expect(text).not.to.contain('tok-3f9a1c');
  });

  it('sends the resolved version of the same group with --resolve, so that what a test opened gets closed', async () => {
    const config = configFile(`  - {name: audit, type: webhook, url: '${ok.url}/hook'}\n`);
    expect(await sendTestCommand(['--config', config], io())).to.equal(0);
    expect(await sendTestCommand(['--config', config, '--resolve'], io())).to.equal(0);
    const [firing, resolved] = bodies(ok);
    expect(resolved?.status).to.equal('resolved');
    expect(resolved?.groupKey).to.equal(firing?.groupKey);
    expect(resolved?.alerts[0]?.fingerprint).to.equal(firing?.alerts[0]?.fingerprint);
    expect(resolved?.alerts[0]?.fingerprint).to.equal(labelsFingerprint({ alertname: 'AlertmuxTest', severity: 'warning', source: 'alertmux-send-test' }));
    expect(resolved?.alerts[0]?.endsAt).to.equal(new Date(NOW).toISOString());
    expect(resolved?.alerts[0]?.startsAt).to.equal(firing?.alerts[0]?.startsAt);
  });

  it('remembers between runs what the firing test created, so --resolve updates the same Slack message', async () => {
    const calls: Array<{ method: string; body: Record<string, unknown> }> = [];
    const slack = await loopbackTarget(({ path, body }) => {
      calls.push({ method: path.replace('/api/', ''), body: body as Record<string, unknown> });
      return { status: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ok: true, channel: 'C0TEST', ts: '1795000000.000100' }) };
    });
    try {
      const config = configFile(`  - {name: slack-ops, type: slack, token: xoxb-test-123, channel: '#ops', api_url: '${slack.url}/api'}\n`);
      expect(await sendTestCommand(['--config', config], io())).to.equal(0);
      expect(await sendTestCommand(['--config', config, '--resolve'], io({ now: () => NOW + 120_000 }))).to.equal(0);
      expect(calls.map((c) => c.method)).to.deep.equal(['chat.postMessage', 'chat.update']);
      expect(calls[1]?.body).to.include({ channel: 'C0TEST', ts: '1795000000.000100' });
    } finally {
      await slack.close();
    }
  });

  it('says so when it cannot keep its state file, and still sends', async () => {
    writeFileSync(join(dir, 'not-a-dir'), '');
    const config = configFile(`  - {name: audit, type: webhook, url: '${ok.url}/hook'}\n`);
    expect(await sendTestCommand(['--config', config, '--state', join(dir, 'not-a-dir', 'state.json')], io())).to.equal(0);
    expect(ok.received).to.have.length(1);
    expect(err.at(-1)).to.match(/^note: cannot read .*not-a-dir\/state\.json: ENOTDIR; --resolve may not find what this test created$/);
  });

  it('skips a target with send_resolved false on --resolve instead of failing', async () => {
    const config = configFile(`  - {name: audit, type: webhook, url: '${ok.url}/hook', send_resolved: false}\n`);
    expect(await sendTestCommand(['--config', config, '--resolve'], io())).to.equal(0);
    expect(ok.received).to.have.length(0);
    expect(out.join('\n')).to.match(/audit\s+webhook\s+skipped\s+-\s+0 ms\s+sendResolvedFalse: send_resolved is false/);
  });

  it('sends only to the targets named with --target, including a disabled one', async () => {
    const config = configFile(
      `  - {name: audit, type: webhook, url: '${ok.url}/hook', enabled: false}\n  - {name: legacy, type: webhook, url: '${broken.url}/hook'}\n`,
    );
    expect(await sendTestCommand(['--config', config, '--target', 'audit'], io())).to.equal(0);
    expect(ok.received).to.have.length(1);
    expect(broken.received).to.have.length(0);
  });

  it('leaves disabled targets out when no target is named', async () => {
    const config = configFile(`  - {name: audit, type: webhook, url: '${ok.url}/hook', enabled: false}\n  - {name: logs, type: log}\n`);
    expect(await sendTestCommand(['--config', config], io())).to.equal(0);
    expect(ok.received).to.have.length(0);
    expect(out.join('\n')).not.to.contain('audit');
  });

  it('exits 2 on an unknown --target and lists the configured ones', async () => {
    const config = configFile(`  - {name: audit, type: webhook, url: '${ok.url}/hook'}\n`);
    expect(await sendTestCommand(['--config', config, '--target', 'pagerduty'], io())).to.equal(2);
    expect(err.join('\n')).to.equal('unknown target(s): pagerduty (configured: audit)');
  });

  it('sends to all targets at once, not one after the other', async () => {
    // The server answers only once both targets' requests have arrived: sending one after the other would time out.
    const held: Array<() => void> = [];
    const gate = createServer((_req, res) => {
      held.push(() => res.end('ok'));
      if (held.length === 2) held.forEach((release) => release());
    });
    await new Promise<void>((resolve) => gate.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(gate.address() as AddressInfo).port}`;
    const config = configFile(`  - {name: one, type: webhook, url: '${url}/1'}\n  - {name: two, type: webhook, url: '${url}/2'}\n`);
    try {
      expect(await sendTestCommand(['--config', config], io())).to.equal(0);
    } finally {
      gate.closeAllConnections();
      await new Promise((resolve) => gate.close(resolve));
    }
  });

  it('prints JSON with --json, and reports each finished target on stderr as progress', async () => {
    const config = configFile(`  - {name: audit, type: webhook, url: '${ok.url}/hook'}\n  - {name: legacy, type: webhook, url: '${broken.url}/hook'}\n`);
    expect(await sendTestCommand(['--config', config, '--json'], io({ progress: true }))).to.equal(1);
    const json = JSON.parse(out.join('\n')) as { status: string; results: Array<Record<string, unknown>> };
    expect(json.status).to.equal('firing');
    expect(json.results.map((r) => [r['target'], r['result'], r['status']])).to.deep.equal([
      ['audit', 'succeeded', 200],
      ['legacy', 'failed', 500],
    ]);
    expect(json.results[1]).to.include({ reason: 'serverError', retryable: true });
    expect(err[0]).to.equal('sending a firing test alert to 2 targets...');
    expect(err.slice(1).sort()).to.have.length(2);
    expect(err.slice(1).join('\n')).to.match(/\[\d\/2\] audit: succeeded/).and.match(/\[\d\/2\] legacy: failed/);
  });

  it('exits 1 with the problems of an invalid config', async () => {
    const config = configFile(`  - {name: audit, type: webhook}\n`);
    expect(await sendTestCommand(['--config', config], io())).to.equal(1);
    expect(err.join('\n')).to.match(/invalid config .*target "audit": missing required field `url`/s);
  });

  it('warns about a broken targets_dir file and sends to the targets that load', async () => {
    mkdirSync(join(dir, 't'));
    writeFileSync(join(dir, 't', 'bad.yml'), 'type: webhook\n');
    const config = join(dir, 'alertmux.yml');
    writeFileSync(config, `storage: {path: ':memory:'}\ntargets_dir: t\ntargets:\n  - {name: audit, type: webhook, url: '${ok.url}/hook'}\n`);
    expect(await sendTestCommand(['--config', config], io())).to.equal(0);
    expect(err[0]).to.equal(`warning: targets_dir file ${join(dir, 't', 'bad.yml')} is broken and left out:\n  ${join(dir, 't', 'bad.yml')}:1:1: target "bad": missing required field \`url\``);
    expect(ok.received).to.have.length(1);
  });

  it('is dispatched by the alertmux command line, which requires --config', async () => {
    expect(await main(['send-test'], (s) => out.push(s), (s) => err.push(s))).to.equal(2);
    expect(err.join('\n')).to.contain('--config is required');
    expect(await main(['send-test', '--help'], (s) => out.push(s), (s) => err.push(s))).to.equal(0);
    expect(out.join('\n')).to.contain('Usage: alertmux send-test');
  });
});
