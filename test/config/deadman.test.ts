import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { checkConfig } from '../../src/commands/check-config.js';
import { checkDeadman } from '../../src/config/deadman.js';
import { ConfigError } from '../../src/config/load.js';
import { config } from '../helpers/fixtures.js';
import type { TargetConfig } from '../../src/publishers/registry.js';

const TARGETS = `targets:
  - {name: pager, type: log}
  - {name: slack-ops, type: log}
`;

/** Every problem of a config text that must be rejected. */
function rejected(text: string): readonly string[] {
  try {
    config(text);
  } catch (err) {
    expect(err).to.be.instanceOf(ConfigError);
    return (err as ConfigError).details;
  }
  throw new Error('expected the config to be rejected');
}

describe('config: deadman', () => {
  it('is off when absent', () => {
    expect(config(TARGETS).deadman).to.equal(undefined);
  });

  it('defaults to the Watchdog and 5m', () => {
    expect(config(`${TARGETS}deadman: {targets: [pager]}`).deadman).to.deep.equal({ match: ['alertname="Watchdog"'], timeout: 300_000, targets: ['pager'] });
  });

  it('takes matchers in the syntax of a target and a duration', () => {
    const cfg = config(`${TARGETS}deadman: {match: ['{alertname="Watchdog", cluster=~"eu-.*"}'], timeout: 2m30s, targets: [pager, slack-ops]}`);
    expect(cfg.deadman).to.deep.equal({ match: ['{alertname="Watchdog", cluster=~"eu-.*"}'], timeout: 150_000, targets: ['pager', 'slack-ops'] });
  });

  it('names an unknown target, a bad matcher and a too short timeout, all at once', () => {
    const details = rejected(`${TARGETS}deadman: {match: ['alertname="Watchdog"', 'severity=~"(?=x)"'], timeout: 500ms, targets: [pager, pagerduty]}`);
    expect(details).to.have.length(3);
    expect(details).to.include('line 4:98: deadman.targets[1]: unknown target "pagerduty" (configured: pager, slack-ops)');
    expect(details).to.include('line 4:74: deadman.timeout: must be at least 1s (the silence that pages), not 500ms');
    expect(details.find((d) => d.startsWith('line 4:43: deadman.match[1]: bad matcher'))).to.not.equal(undefined);
  });

  it('reports its problems beside the targets\' own', () => {
    const details = rejected(`targets: [{name: pager, type: log, match: ['a=~"("']}]\ndeadman: {targets: [nobody]}`);
    expect(details.some((d) => d.startsWith('line 1:44: target "pager": match[0]'))).to.equal(true);
    expect(details).to.include('line 2:21: deadman.targets[0]: unknown target "nobody" (configured: pager)');
  });

  it('requires targets, and says what the schema allows', () => {
    expect(rejected(`${TARGETS}deadman: {}`)).to.deep.equal(['line 4:10: deadman: missing required field `targets`']);
    expect(rejected(`${TARGETS}deadman: {targets: []}`)).to.deep.equal(['line 4:20: deadman.targets: must NOT have fewer than 1 items']);
    expect(rejected(`${TARGETS}deadman: {targets: [pager], timout: 5m}`)).to.deep.equal(['line 4:29: deadman: unknown field `timout`; did you mean `timeout`?']);
    // Said once: the check of the minimum does not repeat a value the schema refused.
    expect(rejected(`${TARGETS}deadman: {targets: [pager], timeout: 5}`)).to.deep.equal(['line 4:38: deadman.timeout: `timeout: 5` has no unit; write 5s (or 500ms, 5m, 1h)']);
  });

  it('accepts a target that comes from targets_dir', () => {
    const dir = mkdtempSync(join(tmpdir(), 'alertmux-deadman-'));
    try {
      writeFileSync(join(dir, 'from-dir.yml'), 'type: log\n');
      expect(config(`targets_dir: ${dir}\ndeadman: {targets: [from-dir]}`).deadman?.targets).to.deep.equal(['from-dir']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('says when no target is configured at all', () => {
    expect(checkDeadman({ deadman: { match: [], timeout: 60_000, targets: ['x'] }, targets: [] })).to.deep.equal([
      '/deadman/targets/0: unknown target "x" (no targets are configured)',
    ]);
    expect(checkDeadman({ targets: [] as TargetConfig[] })).to.deep.equal([]);
  });

  it('is summarised by check-config', () => {
    const dir = mkdtempSync(join(tmpdir(), 'alertmux-deadman-'));
    try {
      writeFileSync(join(dir, 'alertmux.yml'), `${TARGETS}deadman: {timeout: 3m, targets: [pager]}`);
      const out: string[] = [];
      expect(checkConfig([join(dir, 'alertmux.yml')], { env: {} }, (s) => out.push(s), () => undefined)).to.equal(0);
      expect(out).to.include('  deadman: pages pager after 3m without alertname="Watchdog"');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
