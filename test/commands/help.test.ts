import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { expect } from 'chai';
import { main } from '../../src/cli.js';
import { CLI } from '../e2e/process.js';

describe('alertmux help', () => {
  const run = async (argv: string[]) => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await main(argv, (s) => void out.push(s), (s) => void err.push(s));
    return { code, out: out.join('\n'), err: err.join('\n') };
  };

  it('prints the usage and exits 0', async () => {
    const { code, out, err } = await run(['help']);
    expect(code).to.equal(0);
    expect(out).to.contain('alertmux [--config FILE] [--listen HOST:PORT]');
    expect(out).to.contain('alertmux help [<command>]');
    expect(err).to.equal('');
  });

  it("prints a command's help as <command> --help does", async () => {
    for (const command of ['check-config', 'send-test', 'targets']) {
      const viaHelp = await run(['help', command]);
      const viaFlag = await run([command, '--help']);
      expect(viaHelp.code, command).to.equal(0);
      expect(viaHelp.out, command).to.equal(viaFlag.out).and.contain(`alertmux ${command}`);
    }
  });

  it('exits 2 for a command that does not exist', async () => {
    const { code, err } = await run(['help', 'bogus']);
    expect(code).to.equal(2);
    expect(err).to.contain('no command "bogus"');
  });

  it('exits 0 from the built command line (npm run build)', function () {
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build (npm test does)`);
    this.timeout(60_000);
    const result = spawnSync(process.execPath, [CLI, 'help'], { encoding: 'utf8' });
    expect(result.status, result.stderr).to.equal(0);
    expect(result.stdout).to.contain('Usage:');
  });
});
