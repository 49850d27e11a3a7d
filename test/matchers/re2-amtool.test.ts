import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { compileRe2, Re2SyntaxError } from '../../src/matchers/re2.js';

/*
 * Go's own RE2 as the oracle: amtool (Alertmanager's CLI, Go) routes label sets through a tree
 * whose routes carry the regex matchers, so its answers are what Alertmanager decides.
 * Skipped where amtool is not installed. (`(?<name>re)` is left out: Go accepts it since 1.22,
 * which current Alertmanager releases are built with, Debian's amtool 0.25 not.)
 */

/** A value for a classic (Alertmanager 0.25) matcher in double quotes: `\\`, `\"` and `\n` escaped. */
const quoteClassic = (s: string) => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
/** YAML single-quoted scalar. */
const yamlQuote = (s: string) => `'${s.replace(/'/g, "''")}'`;

const PATTERNS = [
  '(?i)crit.*', 'foo(?i)bar', '(?i:a)B', 'a(?i)b|c', '(?i)a(?-i)b', '(?i)k', 'x(?i)k', 'x(?i)[k-l]', 'x(?i)[^k]', '(?s).', '.', '(?U)a+',
  '(?Ui)A+?', 'db-\\d+', '\\d', '\\s', '\\S', '\\w+', '[[:alpha:]]+', '[[:^alpha:]]', '[[:digit:][:upper:]]+', '[[:space:]]', '[[:word:]]+',
  '\\Qa.b\\E', 'a\\z', '\\Aa', '\\x41\\x{1F642}\\101', '\\.\\-\\_\\~\\/', '\\pL+', '\\p{Greek}+', '\\PL', '\\p{^L}', '[\\p{Lu}\\d]+', 'a{2}',
  'a{2,}', 'a{,2}', 'a{01}', '{}', ']', '[]a]', '[a-]', '[a-b-c]', '(?P<name>a)', '^*a', 'a*(?i)*', '', 'a|', '(?)',
  'critical|warning', 'crit', '(?i)[[:lower:]]+', '(?i)\\w+', '(?i)ſ', 'ß', '(?i)ẞ', '[^\\n]+', '(?i)Σ+', 'x(?i)σ', '(?m)^a$', '(?s)a.*b',
];
const VALUES = [
  '', 'a', 'A', 'aa', 'aaa', 'ab', 'AB', 'Ab', 'aB', 'c', 'C', 'k', 'K', '\u212a', 'xk', 'xK', 'x\u212a', 'xL', 'xl', 'CRITICAL', 'critical',
  'crit', 'warning', 'fooBAR', 'FOObar', 'db-12', '٣', '5', ' ', '\u00a0', '\t', 'héllo', 'hello', 'abcXYZ', 'A1B2', 'a_1', 'a.b', 'axb',
  'A🙂A', '.-_~/', 'αβγ', 'ΣΣ', 'σ', 'xσ', 'xΣ', 'xς', '1', '-', ']', 'a{,2}', 'a{01}', '{}', 'ſ', 's', 'S', 'ß', 'ẞ', 'a\nb', 'a\nxb', '🙂',
];

describe("RE2 semantics against Go's own (amtool routes test)", function () {
  let dir: string;
  before(function () {
    if (spawnSync('amtool', ['--version']).error) this.skip();
    dir = mkdtempSync(join(tmpdir(), 'alertmux-re2-'));
  });
  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const amtool = (...args: string[]) => spawnSync('amtool', args, { encoding: 'utf8' });

  it('matches every value exactly as Go does, for every pattern', function () {
    this.timeout(120_000);
    // One run: label v<j> holds VALUES[j]; route r<i>_<j> (continue) matches v<j> against PATTERNS[i].
    const routes: string[] = [];
    const receivers = ['  - name: none'];
    PATTERNS.forEach((p, i) =>
      VALUES.forEach((_, j) => {
        routes.push(`    - {receiver: r${i}_${j}, continue: true, matchers: [${yamlQuote(`v${j}=~${quoteClassic(p)}`)}]}`);
        receivers.push(`  - name: r${i}_${j}`);
      }),
    );
    const file = join(dir, 'routes.yml');
    writeFileSync(file, `route:\n  receiver: none\n  routes:\n${routes.join('\n')}\nreceivers:\n${receivers.join('\n')}\n`);
    const res = amtool('config', 'routes', 'test', `--config.file=${file}`, ...VALUES.map((v, j) => `v${j}=${quoteClassic(v)}`));
    expect(res.status, res.stderr).to.equal(0);
    const go = new Set(res.stdout.trim().split(','));
    const mismatches: string[] = [];
    PATTERNS.forEach((p, i) => {
      const re = compileRe2(`^(?:${p})$`);
      VALUES.forEach((value, j) => {
        const ours = re.test(value);
        if (ours !== go.has(`r${i}_${j}`)) mismatches.push(`${p} on ${JSON.stringify(value)}: Go ${go.has(`r${i}_${j}`)}, alertmux ${ours}`);
      });
    });
    expect(go.size).to.be.greaterThan(100); // the run did route
    expect(mismatches).to.deep.equal([]);
  });

  const REJECTED = ['a(?!b)', 'a(?=b)', '(?<=a)b', '(?<!a)b', '(a)\\1', '(?P<n>a)(?P=n)', '(?>a)', 'a*+', 'a**', 'a\\Z', '\\G', '\\C', '\\e',
    '\\u0041', '[\\b]', '[[:foo:]]', '\\p{Foo}', '*a', '(?i)(?i', '(?-)', 'x{1001}', '(?:[a-z]{4}){0,251}', '[a-Z]', '\\Q\\E*', '\\8'];
  for (const pattern of REJECTED) {
    it(`rejects ${pattern} as Alertmanager does`, () => {
      const file = join(dir, 'bad.yml');
      writeFileSync(file, `route: {receiver: a, routes: [{receiver: a, matchers: [${yamlQuote(`x=~${quoteClassic(pattern)}`)}]}]}\nreceivers: [{name: a}]\n`);
      expect(amtool('check-config', file).status, 'amtool accepts it').to.not.equal(0);
      expect(() => compileRe2(`^(?:${pattern})$`)).to.throw(Re2SyntaxError);
    });
  }
});
