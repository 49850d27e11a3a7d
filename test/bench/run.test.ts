import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CLI } from '../e2e/process.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

interface Row {
  system: string;
  delay: number;
  n: number;
  connections: number;
  notificationsPerSec: number;
  p50: number;
  cpuMsPerNotification: number;
  peakRssMb: number;
  memoryMb?: { rss: number };
  codes: Record<string, number>;
  errors: number;
  targetRequestsPerNotification: number;
  targetConnections: number;
}

interface Results {
  rows: Row[];
  ratios: Array<{ name: string; value: number; met?: boolean }>;
}

/**
 * `npm run bench`'s harness, shrunk to seconds: it must keep working as the service changes, and under load every
 * system must deliver each notification to each target exactly once. No figure is judged here (docs/benchmarks.md).
 */
describe('the benchmark harness (bench/run.js)', function () {
  this.timeout(120_000);
  const N = 5;
  const DELAY = 50;
  let dir: string;
  let results: Results;
  let stdout = '';

  before(async function () {
    if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build (npm test does)`);
    dir = mkdtempSync(join(tmpdir(), 'alertmux-bench-test-'));
    const out = join(dir, 'results.json');
    const child = spawn(process.execPath, [join(ROOT, 'bench/run.js')], {
      cwd: ROOT,
      env: {
        // The shell's own BENCH_* settings (another build, other storage) must not change what is checked.
        ...Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('BENCH_'))),
        BENCH_N: String(N),
        BENCH_DELAYS: `0,${DELAY}`,
        BENCH_SYSTEMS: 'raw,alertmux,sequential',
        BENCH_WARMUP: '1',
        BENCH_DURATION: '1',
        BENCH_CONNECTIONS_0: '4',
        BENCH_CONNECTIONS_50: '2',
        BENCH_OUT: out,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    if (code !== 0) throw new Error(`bench/run.js exited ${code}:\n${stdout}\n${stderr}`);
    results = JSON.parse(readFileSync(out, 'utf8')) as Results;
  });

  after(() => rmSync(dir, { recursive: true, force: true }));

  it('measures every system on every cell and prints the table and the ratios', () => {
    const cells = results.rows.map((r) => `${r.delay}/${r.n}/${r.system}`);
    expect(cells).to.deep.equal([0, DELAY].flatMap((delay) => ['raw', 'alertmux', 'sequential'].map((system) => `${delay}/${N}/${system}`)));
    expect(stdout).to.match(/delay +N +system +conc +notif\/s/);
    expect(stdout).to.contain('ratios (this run):');
    for (const row of results.rows) {
      expect(row.notificationsPerSec, `${row.system} ${row.delay} ms`).to.be.greaterThan(0);
      expect(row.cpuMsPerNotification).to.be.greaterThan(0);
      expect(row.peakRssMb).to.be.greaterThan(0);
    }
    for (const row of results.rows.filter((r) => r.system === 'alertmux')) {
      expect(row.memoryMb?.rss, 'alertmux /metrics read').to.be.greaterThan(0);
    }
  });

  it('gets every notification to every target exactly once, all answered 200, in every system', () => {
    for (const row of results.rows) {
      const where = `${row.system} at ${row.delay} ms`;
      expect(row.errors, where).to.equal(0);
      expect(Object.keys(row.codes), where).to.deep.equal(['200']);
      expect(row.targetRequestsPerNotification, where).to.equal(N);
    }
  });

  it('reuses connections to the targets instead of opening one per request', () => {
    for (const row of results.rows) {
      // Up to two per concurrent request per target: undici opens another while a just-idle socket waits its
      // validation turn (seen: 20 for 2 × 5 at 50 ms). One per request would be hundreds, thousands at 0 ms.
      expect(row.targetConnections, `${row.system} at ${row.delay} ms`).to.be.at.most(4 * row.connections * N);
    }
  });

  it('runs the sequential reference one target after another', () => {
    const sequential = results.rows.find((r) => r.system === 'sequential' && r.delay === DELAY) as Row;
    // Five targets that each answer after 50 ms cannot be done sooner one after another.
    expect(sequential.p50).to.be.at.least(N * DELAY);
  });

  it('states the issue’s goals as ratios of this run', () => {
    const names = results.ratios.map((r) => r.name);
    expect(names).to.include.members([
      'goal: throughput N=5, 0 ms ≥ 60% of raw',
      'goal: throughput N=5, 0 ms ≥ 1,500 notif/s',
      'goal: p50 parallel/sequential, N=5, 50 ms ≤ 0.25',
      'goal: peak RSS ≤ 200 MB (alertmux, all cells)',
    ]);
    for (const r of results.ratios.filter((g) => g.name.startsWith('goal:'))) {
      expect(r.value, r.name).to.be.a('number').and.satisfy(Number.isFinite);
      expect(r.met, r.name).to.be.a('boolean');
    }
  });
});
