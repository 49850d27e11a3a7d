import { spawn, spawnSync } from 'node:child_process';
import { accessSync, chownSync, constants, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { delimiter, join } from 'node:path';
import { tmpdir, userInfo } from 'node:os';

/** Where a PostgreSQL install keeps the server binaries: one directory with initdb, postgres and pg_isready. */
export interface PostgresBinaries {
  bin: string;
}

/** A throwaway cluster: trust auth on loopback, its socket and data in a temp dir that stop() removes. */
export interface PostgresCluster {
  /** postgres://postgres@127.0.0.1:<port>/postgres */
  url: string;
  port: number;
  /** The temp dir (data directory and socket). */
  dir: string;
  /** The server's processes right now: the postmaster and its children (backends, WAL writer, ...), for CPU accounting. */
  pids(): number[];
  /** A new empty database on the cluster (one per test); its URL. */
  freshDatabase(): Promise<string>;
  /** Drop a database freshDatabase() made, closing its connections. */
  dropDatabase(url: string): Promise<void>;
  /** Run `sql` with psql on database `url` (default: `url`, the postgres database): its unaligned, tuples-only output. */
  sql(sql: string, url?: string): string;
  /**
   * Stop the server, keeping its data: the database is down until `resume()`. `fast` is a fast shutdown; `immediate`
   * is what `pg_ctl stop -m immediate` does (SIGQUIT: no checkpoint, every connection cut, recovery at the next start).
   */
  halt(mode?: 'fast' | 'immediate'): Promise<void>;
  /** Start the server again on the same data directory and port, resolving once it accepts connections. */
  resume(): Promise<void>;
  /** Stop for good (fast shutdown) and remove the temp dir. */
  stop(): Promise<void>;
}

const NEEDED = ['initdb', 'postgres', 'pg_isready'];

const executable = (path: string): boolean => {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
};

/**
 * The first directory on PATH with initdb, postgres and pg_isready, else Debian's /usr/lib/postgresql/<version>/bin
 * (newest version first: Debian keeps the server binaries off PATH).
 */
export function findPostgres(): PostgresBinaries | undefined {
  const onPath = (process.env['PATH'] ?? '').split(delimiter).filter(Boolean);
  let debian: string[] = [];
  try {
    debian = readdirSync('/usr/lib/postgresql')
      .sort((a, b) => Number(b) - Number(a))
      .map((v) => join('/usr/lib/postgresql', v, 'bin'));
  } catch {
    // No Debian install.
  }
  // On PATH, Debian links initdb and postgres but its pg_isready is a wrapper elsewhere: accept the split.
  for (const dir of [...onPath, ...debian]) {
    if (NEEDED.every((b) => executable(join(dir, b)))) return { bin: dir };
  }
  return undefined;
}

/**
 * Skip the enclosing suite (from a `before` hook) when PostgreSQL is not installed, saying so; under CI fail
 * instead, as the Alertmanager e2e tests do (.ci/run installs Debian's `postgresql`).
 */
export function requirePostgres(context: Mocha.Context): PostgresBinaries {
  const found = findPostgres();
  if (found) return found;
  const what = 'no PostgreSQL server binaries (initdb, postgres, pg_isready) on PATH or under /usr/lib/postgresql/*/bin';
  if (process.env['CI']) throw new Error(`CI is set but there are ${what}: .ci/run must apt-get install postgresql`);
  console.log(`      (skipped: ${what}; apt-get install postgresql to run it)`);
  context.skip();
}

/** A free loopback port (bound, then released for postgres to take). */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port from the loopback listener');
  return address.port;
}

/** PostgreSQL refuses to run as root: as root, run it as the `postgres` OS user (Debian's package creates it). */
function asServerUser(command: string, args: string[]): [string, string[]] {
  return userInfo().uid === 0 ? ['runuser', ['-u', 'postgres', '--', command, ...args]] : [command, args];
}

function serverUser(): { uid: number; gid: number } | undefined {
  if (userInfo().uid !== 0) return undefined;
  const id = (flag: string) => {
    const out = spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' });
    if (out.status !== 0) throw new Error(`running as root, but there is no 'postgres' OS user to run PostgreSQL as: ${out.stderr.trim()}`);
    return Number(out.stdout.trim());
  };
  return { uid: id('-u'), gid: id('-g') };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * initdb a cluster in a new temp dir and start postgres on a free loopback port (socket in the temp dir, no
 * fsync: a test cluster need not survive a power cut), resolving once it accepts connections.
 */
export async function startPostgres(
  binaries: PostgresBinaries = findPostgresOrThrow(),
  options: { timeoutMs?: number; durable?: boolean; settings?: Record<string, string> } = {},
): Promise<PostgresCluster> {
  const { timeoutMs = 30_000, durable = false, settings = {} } = options;
  const dir = mkdtempSync(join(tmpdir(), 'alertmux-pg-'));
  const data = join(dir, 'data');
  let server: Postmaster | undefined;
  try {
    const owner = serverUser();
    if (owner) chownSync(dir, owner.uid, owner.gid);
    const [initCommand, initArgs] = asServerUser(join(binaries.bin, 'initdb'), [
      '-D',
      data,
      '--auth=trust',
      '--username=postgres',
      '--encoding=UTF8',
      '--locale=C',
      '--no-sync',
    ]);
    const init = spawnSync(initCommand, initArgs, { encoding: 'utf8' });
    if (init.status !== 0) throw new Error(`initdb failed (${init.status ?? init.signal}): ${(init.stderr || init.stdout).trim()}`);

    const port = await freePort();
    const launchIt = () => launch(binaries, { data, dir, port, durable, settings, timeoutMs });
    server = await launchIt();
    // The client is a plain program (no server user needed): Debian puts it on PATH, the server binaries not always.
    const psqlBinary = executable(join(binaries.bin, 'psql')) ? join(binaries.bin, 'psql') : 'psql';
    const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
    const psql = (sql: string, on = url) => {
      const args = ['-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-d', on, '-c', sql];
      const out = spawnSync(psqlBinary, args, { encoding: 'utf8' });
      if (out.status !== 0) throw new Error(`psql failed (${out.status ?? out.signal ?? out.error?.message}): ${(out.stderr || out.stdout || '').trim()}`);
      return out.stdout.trim();
    };
    let databases = 0;
    return {
      url,
      port,
      dir,
      pids() {
        const postmaster = postmasterPid(data);
        return postmaster === undefined ? [] : [postmaster, ...childrenOf(postmaster)];
      },
      async freshDatabase() {
        const name = `test_${process.pid}_${++databases}`;
        psql(`CREATE DATABASE ${name}`);
        return `postgres://postgres@127.0.0.1:${port}/${name}`;
      },
      async dropDatabase(database) {
        const name = new URL(database).pathname.slice(1);
        if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`not a database of this cluster: ${database}`);
        psql(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      },
      sql: psql,
      async halt(mode = 'fast') {
        // SIGINT is postgres's fast shutdown, SIGQUIT its immediate one.
        await server?.halt(mode === 'fast' ? 'SIGINT' : 'SIGQUIT');
        server = undefined;
      },
      async resume() {
        if (server) return;
        server = await launchIt();
      },
      async stop() {
        // SIGINT is postgres's fast shutdown.
        await server?.halt('SIGINT');
        server = undefined;
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await server?.halt('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

/** A running postmaster: `halt` sends it a signal and resolves once it has exited (SIGKILL if it hangs 10 s). */
interface Postmaster {
  halt(signal: NodeJS.Signals): Promise<void>;
}

/** Start postgres on `data` and `port` (loopback, its socket in `dir`) and wait until it accepts connections. */
async function launch(
  binaries: PostgresBinaries,
  at: { data: string; dir: string; port: number; durable: boolean; settings: Record<string, string>; timeoutMs: number },
): Promise<Postmaster> {
  const { data, dir, port, durable, settings, timeoutMs } = at;
  const [command, args] = asServerUser(join(binaries.bin, 'postgres'), [
    '-D',
    data,
    '-p',
    String(port),
    '-k',
    dir,
    '-c',
    'listen_addresses=127.0.0.1',
    // The benchmark's cluster keeps PostgreSQL's durable defaults (fsync, synchronous commits), as users run it.
    // Commits stay synchronous without fsync (a write to the page cache, cheap): a commit then survives halt('immediate'),
    // which kills the server processes and not the machine. Without it, an acknowledged write
    // could still sit in the WAL writer's buffer and be lost, a loss the fault tests would blame on alertmux.
    ...(durable ? [] : ['-c', 'fsync=off', '-c', 'full_page_writes=off']),
    ...Object.entries(settings).flatMap(([name, value]) => ['-c', `${name}=${value}`]),
  ]);
  const started = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  started.stderr?.setEncoding('utf8').on('data', (chunk: string) => (log = (log + chunk).slice(-4000)));
  const exited = new Promise<void>((resolve) => started.once('exit', () => resolve()));
  let gone = false;
  void exited.then(() => (gone = true));
  const halt = async (signal: NodeJS.Signals) => {
    if (gone) return;
    // Sent to the postmaster itself (its pid heads postmaster.pid): as root, the child is runuser, which need
    // not pass the signal on.
    const postmaster = postmasterPid(data);
    if (postmaster === undefined) started.kill(signal);
    else process.kill(postmaster, signal);
    const killer = setTimeout(() => {
      if (postmaster !== undefined) process.kill(postmaster, 'SIGKILL');
      started.kill('SIGKILL');
    }, 10_000);
    await exited;
    clearTimeout(killer);
  };
  try {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (gone) throw new Error(`postgres exited before accepting connections: ${log.trim()}`);
      const ready = spawnSync(join(binaries.bin, 'pg_isready'), ['-q', '-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', '-d', 'postgres']);
      if (ready.status === 0) break;
      if (Date.now() > deadline) throw new Error(`postgres did not accept connections on 127.0.0.1:${port} within ${timeoutMs} ms: ${log.trim()}`);
      await sleep(100);
    }
  } catch (err) {
    await halt('SIGKILL');
    throw err;
  }
  return { halt };
}

function findPostgresOrThrow(): PostgresBinaries {
  const found = findPostgres();
  if (!found) throw new Error('no PostgreSQL server binaries (initdb, postgres, pg_isready) found');
  return found;
}

/** The postmaster's pid, from the first line of postmaster.pid (absent once it has stopped). */
function postmasterPid(data: string): number | undefined {
  try {
    const pid = Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}

/** The pids whose parent is `parent` (Linux /proc). */
function childrenOf(parent: number): number[] {
  const children: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // Fields after "(comm)": state, then the parent pid.
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === parent) children.push(Number(entry));
    } catch {
      // Gone meanwhile.
    }
  }
  return children;
}
