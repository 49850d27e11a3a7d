import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { CLI } from './process.js';

/** Run the built service until it exits by itself; a hang is killed after `ms` (and fails the test). */
function runUntilExit(args: string[], ms = 60_000): Promise<{ code: number | null; signal: string | null; output: string }> {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build (npm test does)`);
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, LOG_LEVEL: 'info' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), ms);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, output });
    });
  });
}

describe('the service fails fast at start (built: npm run build)', function () {
  this.timeout(90_000);
  let dir: string;
  let taken: Server | undefined;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'visible-failfast-'));
  });
  afterEach(async () => {
    rmSync(dir, { recursive: true, force: true });
    if (taken) await new Promise((resolve) => taken?.close(resolve));
    taken = undefined;
  });
  const config = (storage: string) => {
    const file = join(dir, 'alertmux.yml');
    writeFileSync(file, `storage: {path: '${storage}'}\ntargets:\n  - {name: logs, type: log}\n`);
    return file;
  };

  it('exits 1 when the listen address is taken, saying which and why, before opening the ledger', async () => {
    taken = createServer().listen(0, '127.0.0.1');
    await new Promise((resolve) => taken?.once('listening', resolve));
    const port = (taken.address() as AddressInfo).port;
    const ledger = join(dir, 'data', 'alertmux.db');
    const run = await runUntilExit(['--config', config(ledger), '--listen', `127.0.0.1:${port}`]);
    expect(run.signal, run.output).to.equal(null);
    expect(run.code, run.output).to.equal(1);
    expect(run.output).to.include(`cannot listen on 127.0.0.1:${port}`);
    expect(run.output).to.include('EADDRINUSE');
    expect(run.output).to.not.include('alertmux listening');
    expect(existsSync(ledger), 'the ledger was not created').to.equal(false);
  });

  it('exits 1 on a listen address that is not HOST:PORT', async () => {
    const run = await runUntilExit(['--config', config(':memory:'), '--listen', '127.0.0.1:99999']);
    expect(run.code, run.output).to.equal(1);
    expect(run.output).to.include('cannot listen on 127.0.0.1:99999: not HOST:PORT');
  });

  it('exits 1 when the storage path cannot be opened, naming it', async () => {
    const notADatabase = join(dir, 'ledger.db');
    writeFileSync(notADatabase, 'this is not SQLite\n');
    const underAFile = join(notADatabase, 'sub', 'alertmux.db');
    const aDirectory = join(dir, 'adir');
    mkdirSync(aDirectory);
    for (const path of [notADatabase, underAFile, aDirectory]) {
      const run = await runUntilExit(['--config', config(path), '--listen', '127.0.0.1:0']);
      expect(run.signal, run.output).to.equal(null);
      expect(run.code, run.output).to.equal(1);
      expect(run.output).to.include(`cannot open the ledger at storage.path ${path}`);
      expect(run.output).to.not.include('alertmux listening');
    }
  });
});
