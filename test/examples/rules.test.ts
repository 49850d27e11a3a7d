import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { parse as parseYaml } from 'yaml';

const ROOT = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..');
const RULES_DIR = join(ROOT, 'examples', 'prometheus');
const RULES = join(RULES_DIR, 'alertmux-rules.yml');

// Loosely typed YAML (rule files and promtool unit tests), read as JSON.parse would give them.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Doc = Record<string, any>;
const read = (file: string) => parseYaml(readFileSync(file, 'utf8')) as Doc;

/** promtool unit-test files: YAML under examples/prometheus/ with `rule_files` and `tests`. */
const unitFiles = readdirSync(RULES_DIR, { recursive: true, encoding: 'utf8' })
  .filter((f) => /\.ya?ml$/.test(f))
  .map((f) => join(RULES_DIR, f))
  .filter((f) => {
    const doc = read(f);
    return !!doc && Array.isArray(doc['rule_files']) && Array.isArray(doc['tests']);
  });

/** Skips the test without promtool on PATH (Debian's prometheus package has it), fails under CI. */
function requirePromtool(ctx: Mocha.Context): void {
  if (!spawnSync('promtool', ['--version']).error) return;
  if (process.env['CI']) throw new Error('CI is set but promtool is not on PATH: .ci/run must apt-get install prometheus');
  console.log('      (skipped: no promtool on PATH; apt-get install prometheus to run it)');
  ctx.skip();
}

describe('the shipped alert rules, unit-tested with promtool test rules', () => {
  it('have unit-test files that test alertmux-rules.yml', () => {
    const tested = unitFiles.flatMap((f) => (read(f)['rule_files'] as string[]).map((r) => resolve(dirname(f), r)));
    expect(tested).to.include(RULES);
  });

  it('test every alert of every rule file they load both firing and not firing', () => {
    const ruleFiles = [...new Set(unitFiles.flatMap((f) => (read(f)['rule_files'] as string[]).map((r) => resolve(dirname(f), r))))];
    const alerts = ruleFiles.flatMap((f) => (read(f)['groups'] as Doc[]).flatMap((g) => (g['rules'] as Doc[]).map((r) => r['alert'] as string | undefined)));
    const cases = unitFiles.flatMap((f) => (read(f)['tests'] as Doc[]).flatMap((t) => (t['alert_rule_test'] ?? []) as Doc[]));
    const firing = new Set(cases.filter((c) => (c['exp_alerts'] ?? []).length > 0).map((c) => c['alertname'] as string));
    const quiet = new Set(cases.filter((c) => (c['exp_alerts'] ?? []).length === 0).map((c) => c['alertname'] as string));
    const missing = alerts
      .filter((a): a is string => !!a)
      .flatMap((a) => [...(firing.has(a) ? [] : [`${a}: no firing case`]), ...(quiet.has(a) ? [] : [`${a}: no not-firing case`])]);
    expect(alerts.length).to.be.greaterThan(5);
    expect(missing).to.deep.equal([]);
  });

  for (const file of unitFiles) {
    it(`pass: promtool test rules ${relative(ROOT, file)}`, function () {
      requirePromtool(this);
      const result = spawnSync('promtool', ['test', 'rules', file], { encoding: 'utf8', cwd: dirname(file) });
      expect(result.status, result.stdout + result.stderr).to.equal(0);
    });
  }
});
