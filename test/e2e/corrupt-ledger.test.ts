import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CLI } from './process.js';
import { refusedPort } from '../helpers/servers.js';

/** Run the built service until it exits: its exit code and every line it wrote (stdout and stderr). */
function run(config: string, port: number): Promise<{ code: number | null; lines: string[] }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, '--config', config, '--listen', `127.0.0.1:${port}`], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`alertmux did not exit on a corrupt ledger:\n${out}`));
    }, 30_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, lines: out.split('\n').filter(Boolean) });
    });
  });
}

describe('a corrupt ledger at start (child process of the built service)', function () {
  this.timeout(40_000);
  const dir = mkdtempSync(join(tmpdir(), 'alertmux-corrupt-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('exits non-zero with one JSON log line that names the file, the SQLite code and what to do', async () => {
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build (npm test does)`);
    const db = join(dir, 'ledger.db');
    // Garbage where the database header belongs.
    writeFileSync(db, Buffer.from(Array.from({ length: 16_384 }, (_, i) => (i * 7919 + 13) % 251)));
    const config = join(dir, 'alertmux.yml');
    writeFileSync(config, `storage: {path: ${db}}\ntargets:\n  - {name: log, type: log}\n`);
    const { code, lines } = await run(config, await refusedPort());
    expect(code).to.equal(1);
    expect(lines, lines.join('\n')).to.have.length(1);
    const line = JSON.parse(lines[0] ?? '') as Record<string, string>;
    expect(line).to.include({ level: 'error', message: 'cannot open the ledger; not starting', path: db, code: 'SQLITE_NOTADB' });
    expect(line['action']).to.match(/restore .* from a backup/).and.to.match(/move it aside .* to start with an empty ledger/);
  });
});
