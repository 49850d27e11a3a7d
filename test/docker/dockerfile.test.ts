import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, posix, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { parse as parseYaml } from 'yaml';
import { request } from 'undici';
import { all, copyPaths, ignored, last, parseDockerfile, type Instruction, type Stage } from './dockerfile.js';

// No Docker engine runs in CI, so this test runs the Dockerfile's own steps on the
// machine: the build stage's RUN lines in a copy of the build context (as the
// .dockerignore filters it), the runtime stage's COPY lines into a fake root
// filesystem, then the image's ENTRYPOINT + CMD, HEALTHCHECK and STOPSIGNAL.
// npm runs offline from the local npm cache (CI's own `npm ci` filled it), and
// better-sqlite3 builds from source: no network beyond 127.0.0.1.

const ROOT = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..');
const dockerfile = parseDockerfile(readFileSync(join(ROOT, 'Dockerfile'), 'utf8'));
const dockerignore = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n');
const [build, runtime] = dockerfile.stages as [Stage, Stage];
const command = [...(last(runtime, 'ENTRYPOINT')?.args ?? []), ...(last(runtime, 'CMD')?.args ?? [])];
const volumes = all(runtime, 'VOLUME').flatMap((v) => (v.shell ? (v.args[0] ?? '').split(/\s+/) : v.args));
const exposed = Number((last(runtime, 'EXPOSE')?.args[0] ?? '').split('/')[0]);
const configPath = command[command.indexOf('--config') + 1] ?? '';

describe('Dockerfile', () => {
  describe('declares an image fit for production', () => {
    it('builds in a stage with dev dependencies and the native toolchain, and runs from a current LTS slim base', () => {
      expect(dockerfile.stages).to.have.length(2);
      expect(build.name).to.equal('build');
      for (const stage of [build, runtime]) expect(stage.from).to.equal('node:24-bookworm-slim');
      const runs = all(build, 'RUN').map((r) => r.args.join(' '));
      expect(runs.find((r) => r.includes('apt-get install'))).to.include('python3').and.include('make').and.include('g++');
      expect(runs.some((r) => /^npm ci\b/.test(r) && !r.includes('--omit=dev'))).to.equal(true);
      expect(runs).to.include('npm run build');
      expect(runs.some((r) => /npm (prune|ci) .*--omit=dev/.test(r))).to.equal(true);
      expect(all(runtime, 'RUN').map((r) => r.args.join(' ')).join('\n')).not.to.match(/npm|apt-get/);
    });

    it('runs as a numeric non-root user, so that Kubernetes runAsNonRoot can verify it', () => {
      const user = last(runtime, 'USER')?.args[0] ?? '';
      expect(user).to.match(/^\d+(:\d+)?$/);
      expect(Number(user.split(':')[0])).to.be.greaterThan(0);
    });

    it('keeps the SQLite ledger on a volume owned by that user, stops on SIGTERM and exposes 9095', () => {
      const config = parseYaml(readFileSync(join(ROOT, 'docker', 'alertmux.yml'), 'utf8')) as { storage: { path: string } };
      expect(volumes).to.deep.equal(['/var/lib/alertmux']);
      expect(posix.dirname(config.storage.path)).to.equal('/var/lib/alertmux');
      const chown = all(runtime, 'RUN').map((r) => r.args.join(' ')).find((r) => r.includes('chown'));
      expect(chown).to.include(`chown ${last(runtime, 'USER')?.args[0] ?? '?'} /var/lib/alertmux`);
      expect(last(runtime, 'STOPSIGNAL')?.args).to.deep.equal(['SIGTERM']);
      expect(exposed).to.equal(9095);
    });

    it('starts the service with the config at /etc/alertmux/alertmux.yml on 0.0.0.0:9095 and checks /-/healthy', () => {
      expect(command).to.deep.equal(['node', 'dist/cli.js', '--config', '/etc/alertmux/alertmux.yml', '--listen', '0.0.0.0:9095']);
      const copies = all(runtime, 'COPY').map(copyPaths);
      expect(copies).to.deep.include({ sources: ['docker/alertmux.yml'], dest: configPath });
      const check = last(runtime, 'HEALTHCHECK');
      expect(check?.shell).to.equal(false);
      expect(check?.args.join(' ')).to.include(`http://127.0.0.1:${exposed}/-/healthy`);
    });

    it('sends only what it copies to the builder', () => {
      for (const i of all(build, 'COPY')) {
        for (const source of copyPaths(i).sources) expect(ignored(dockerignore, source), source).to.equal(false);
      }
      for (const path of ['node_modules/x', 'dist/cli.js', 'data/alertmux.db', '.git/HEAD', 'test/app.test.ts']) {
        expect(ignored(dockerignore, path), path).to.equal(true);
      }
    });
  });

  describe("build and start steps, run on this machine", function () {
    this.timeout(10 * 60_000);
    let work: string;
    let buildFs: string;
    let runFs: string;
    let port: number;
    let child: ChildProcess | undefined;
    let exited: Promise<number | string | null>;
    let output = '';

    before(async () => {
      work = mkdtempSync(join(tmpdir(), 'alertmux-docker-'));
      // One fake root per stage, named after the stage, so that COPY --from=<stage> finds it.
      buildFs = join(work, build.name ?? 'build');
      runFs = join(work, 'runtime');
      runStage(build, buildFs);
      runStage(runtime, runFs);
      port = await freePort();
      const mapped = command.map((arg) => mapArg(arg, runFs)).map((arg) => arg.replace(`0.0.0.0:${exposed}`, `127.0.0.1:${port}`));
      const config = at(runFs, configPath);
      writeFileSync(config, mapPaths(readFileSync(config, 'utf8'), runFs));
      const [program = '', ...args] = mapped;
      child = spawn(program === 'node' ? process.execPath : program, args, {
        cwd: at(runFs, workdir(runtime)),
        env: cleanEnv(envOf(runtime)),
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      child.stdout?.on('data', (d: Buffer) => (output += d.toString()));
      child.stderr?.on('data', (d: Buffer) => (output += d.toString()));
      exited = new Promise((resolve) => child?.once('exit', (code, signal) => resolve(code ?? signal)));
      await waitFor(`http://127.0.0.1:${port}/-/healthy`, () => child?.exitCode !== null, () => output);
    });

    after(() => {
      if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      if (work) rmSync(work, { recursive: true, force: true });
    });

    it('ships production dependencies and the compiled JavaScript, without dev dependencies', () => {
      const app = at(runFs, workdir(runtime));
      expect(existsSync(join(app, 'dist', 'cli.js'))).to.equal(true);
      const modules = readdirSync(join(app, 'node_modules'));
      expect(modules).to.include.members(['better-sqlite3', 'express', 'undici', 'prom-client']);
      for (const dev of ['typescript', 'mocha', 'tsx', 'eslint', 'c8']) expect(modules, dev).not.to.include(dev);
      expect(existsSync(join(app, 'node_modules', 'better-sqlite3', 'build', 'Release', 'better_sqlite3.node'))).to.equal(true);
    });

    it('answers /-/healthy and /-/ready once started with the image command', async () => {
      for (const path of ['/-/healthy', '/-/ready']) {
        const res = await request(`http://127.0.0.1:${port}${path}`);
        expect(res.statusCode, path).to.equal(200);
        expect(await res.body.text()).to.equal('OK');
      }
    });

    it('serves the console built in the build stage, and its assets', async () => {
      const page = await request(`http://127.0.0.1:${port}/ui/`);
      expect(page.statusCode).to.equal(200);
      const html = await page.body.text();
      const script = /src="(assets\/app-[A-Za-z0-9]+\.js)"/.exec(html)?.[1];
      expect(script, html).to.be.a('string');
      const js = await request(`http://127.0.0.1:${port}/ui/${script}`);
      expect(js.statusCode).to.equal(200);
      await js.body.dump();
    });

    it('passes its HEALTHCHECK command', () => {
      expect(healthcheck(port).status, output).to.equal(0);
    });

    it('keeps the SQLite ledger in the volume', () => {
      expect(readdirSync(at(runFs, volumes[0] ?? ''))).to.include('alertmux.db');
    });

    it('drains and exits 0 on its STOPSIGNAL, after which the HEALTHCHECK fails', async () => {
      child?.kill(last(runtime, 'STOPSIGNAL')?.args[0] as NodeJS.Signals);
      expect(await exited, output).to.equal(0);
      expect(healthcheck(port).status).to.equal(1);
    });
  });
});

/** A container path inside the fake root `fs`. */
function at(fs: string, path: string): string {
  return join(fs, path);
}

function workdir(stage: Stage): string {
  return last(stage, 'WORKDIR')?.args[0] ?? '/';
}

function envOf(stage: Stage): Record<string, string> {
  return Object.fromEntries(all(stage, 'ENV').map((e) => (e.args[0] ?? '').split('=', 2) as [string, string]));
}

/** The test's environment minus coverage collection (the children are not alertmux's sources), plus the stage's ENV. */
function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, ...extra };
  delete env['NODE_V8_COVERAGE'];
  delete env['NODE_OPTIONS'];
  return env;
}

/** Replace container paths (volumes, /etc/alertmux) in a text by their place in the fake root. */
function mapPaths(text: string, fs: string): string {
  const prefixes = [...volumes, posix.dirname(configPath)];
  return prefixes.reduce((t, p) => t.split(p).join(at(fs, p)), text);
}

function mapArg(arg: string, fs: string): string {
  return arg.startsWith('/') ? at(fs, arg) : arg;
}

/** Run one stage's instructions in the fake root `fs` (WORKDIR, COPY, RUN; metadata instructions are checked above). */
function runStage(stage: Stage, fs: string): void {
  let cwd = at(fs, '/');
  mkdirSync(cwd, { recursive: true });
  for (const i of stage.instructions) {
    if (i.cmd === 'WORKDIR') {
      cwd = at(fs, i.args[0] ?? '/');
      mkdirSync(cwd, { recursive: true });
    } else if (i.cmd === 'COPY') copy(i, cwd, fs);
    else if (i.cmd === 'RUN') run(i, cwd, fs, stage);
  }
}

function copy(i: Instruction, cwd: string, fs: string): void {
  const { sources, dest } = copyPaths(i);
  const from = i.flags['from'];
  const fromFs = from === undefined ? undefined : join(dirname(fs), from);
  const target = dest.startsWith('/') ? at(fs, dest) : join(cwd, dest);
  for (const source of sources) {
    const path = fromFs ? at(fromFs, source) : contextPath(source);
    const into = dest.endsWith('/') ? join(target, posix.basename(source)) : target;
    mkdirSync(dirname(into), { recursive: true });
    cpSync(path, into, { recursive: true, filter: (p) => !!fromFs || !ignored(dockerignore, relative(ROOT, p)) });
  }
}

function contextPath(source: string): string {
  if (ignored(dockerignore, source)) throw new Error(`COPY ${source}: excluded by .dockerignore`);
  return join(ROOT, source);
}

/** Run a RUN line with `sh -c` as Docker does; OS package installs are checked, not run (the toolchain must already be here). */
function run(i: Instruction, cwd: string, fs: string, stage: Stage): void {
  let script = i.args.join(' ');
  if (script.includes('apt-get install')) {
    for (const tool of ['python3', 'make', 'g++']) {
      expect(spawnSync('sh', ['-c', `command -v ${tool}`]).status, `${tool} is needed to build better-sqlite3`).to.equal(0);
    }
    return;
  }
  // Absolute container paths live in the fake root; chown needs root (the image's build does it as root).
  script = mapPaths(script, fs);
  if (process.getuid?.() !== 0) script = script.replace(/&&\s*chown\s+\S+\s+\S+/g, '');
  const env = cleanEnv(envOf(stage));
  env['npm_config_offline'] = 'true';
  env['npm_config_build_from_source'] = 'true'; // prebuild-install would download a binary
  const headers = join(dirname(dirname(process.execPath)), 'include', 'node');
  if (existsSync(join(headers, 'node_api.h'))) env['npm_config_nodedir'] = dirname(dirname(process.execPath));
  const result = spawnSync('sh', ['-c', script], { cwd, env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (result.status !== 0) throw new Error(`RUN ${script} failed (${result.status}):\n${result.stdout}\n${result.stderr}`);
}

function healthcheck(port: number) {
  const [program = '', ...args] = (last(runtime, 'HEALTHCHECK')?.args ?? []).map((a) => a.replace(`:${exposed}/`, `:${port}/`));
  return spawnSync(program === 'node' ? process.execPath : program, args, { env: cleanEnv({}), encoding: 'utf8', timeout: 30_000 });
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function waitFor(url: string, gone: () => boolean, output: () => string): Promise<void> {
  const until = Date.now() + 30_000;
  for (;;) {
    if (gone()) throw new Error(`alertmux exited early:\n${output()}`);
    try {
      const res = await request(url);
      await res.body.dump();
      if (res.statusCode === 200) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > until) throw new Error(`alertmux did not answer ${url}:\n${output()}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
