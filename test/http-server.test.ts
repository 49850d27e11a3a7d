import type { Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { Writable } from 'node:stream';
import { expect } from 'chai';
import { Registry } from 'prom-client';
import { Agent, request } from 'undici';
import winston from 'winston';
import { buildApp, type App } from '../src/app.js';
import { parseConfig } from '../src/config/load.js';
import { createHttpServer } from '../src/http-server.js';
import { fixture } from './helpers/fixtures.js';
import { eventually, loopbackTarget, type LoopbackTarget } from './helpers/servers.js';
import { targetKinds } from '../src/publishers/registry.js';

/** A winston logger whose JSON lines are kept in `lines`. */
function capturingLogger() {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(JSON.parse(chunk.toString('utf8')) as Record<string, unknown>);
      done();
    },
  });
  const logger = winston.createLogger({ level: 'info', format: winston.format.json(), transports: [new winston.transports.Stream({ stream })] });
  return { logger, lines };
}

/** A raw connection and everything it receives, until it is closed. */
interface Raw {
  socket: Socket;
  received: () => string;
  closed: Promise<void>;
}

function open(port: number): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let data = '';
    socket.on('data', (chunk: Buffer) => (data += chunk.toString('latin1')));
    socket.on('error', () => undefined);
    const closed = new Promise<void>((done) => socket.once('close', () => done()));
    socket.once('connect', () => resolve({ socket, received: () => data, closed }));
    socket.once('error', reject);
  });
}

const BODY = JSON.stringify(fixture());
const head = (length: number) => `POST /webhook HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\n\r\n`;

describe('the HTTP server: timeouts and a connection cap (limits)', function () {
  this.timeout(30_000);
  let target: LoopbackTarget;
  let mux: App;
  let server: Server;
  let port: number;
  let lines: Array<Record<string, unknown>>;
  const client = new Agent({ keepAliveTimeout: 10 });

  async function start(limits: string, reply: LoopbackTarget['reply'] = () => ({ status: 200 })) {
    target = await loopbackTarget(reply);
    const text = `storage: {path: ":memory:"}\nlimits: {${limits}}\ntargets:\n  - {name: a, type: webhook, url: "${target.url}/a"}\n`;
    const captured = capturingLogger();
    lines = captured.lines;
    mux = await buildApp({ loadConfig: () => parseConfig(text, { env: {}, baseDir: '/tmp', kinds: targetKinds }), logger: captured.logger, registry: new Registry(), http: new Agent() });
    server = createHttpServer(mux.handler, mux.runtime().config.limits, captured.logger).listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    port = (server.address() as AddressInfo).port;
  }
  const post = async () => {
    const res = await request(`http://127.0.0.1:${port}/webhook`, { method: 'POST', dispatcher: client, headers: { 'content-type': 'application/json' }, body: BODY });
    await res.body.text();
    return res.statusCode;
  };

  afterEach(async () => {
    await mux.close(1000);
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
    await target.close();
  });
  after(() => client.close());

  it('defaults: headers within 10 s, a whole request within 30 s, idle keep-alive 65 s, 1024 connections', async () => {
    await start('');
    expect(server.headersTimeout).to.equal(10_000);
    expect(server.requestTimeout).to.equal(30_000);
    expect(server.keepAliveTimeout).to.equal(65_000);
    expect(server.maxConnections).to.equal(1024);
  });

  it('cuts a stalled body with 408 and closes the connection, and logs it', async () => {
    await start('request_timeout: 1s, header_timeout: 1s');
    const raw = await open(port);
    raw.socket.write(head(BODY.length) + BODY.slice(0, 100));
    await raw.closed;
    expect(raw.received()).to.match(/^HTTP\/1\.1 408 Request Timeout\r\n/);
    const cut = await eventually(() => lines.find((l) => l['status'] === 408), 'the log line');
    expect(cut).to.include({ level: 'warn', message: 'request timed out; connection closed', status: 408, remote: '127.0.0.1', request_timeout_ms: 1000 });
    // The webhook handler has nobody to answer and does not log a second line for it.
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(lines.filter((l) => l['message'] === 'webhook rejected')).to.deep.equal([]);
  });

  it('does not count the time alertmux takes to answer: a slow target is answered, not cut', async () => {
    // The target answers after the request timeout has passed twice over; the webhook waits for it (response_deadline 8s).
    await start('request_timeout: 300ms, header_timeout: 300ms', () => ({ status: 200, delayMs: 900 }));
    expect(await post()).to.equal(200);
    expect(lines.filter((l) => l['status'] === 408)).to.deep.equal([]);
  });

  it('cuts headers that never end with 408', async () => {
    await start('request_timeout: 5s, header_timeout: 500ms');
    const raw = await open(port);
    raw.socket.write('POST /webhook HTTP/1.1\r\nHost: 127.0.0.1\r\n');
    await raw.closed;
    expect(raw.received()).to.match(/^HTTP\/1\.1 408 Request Timeout\r\n/);
  });

  it("answers a malformed request as Node does (400, 431 for headers over Node's limit), closes it and logs it", async () => {
    await start('');
    const garbage = await open(port);
    garbage.socket.write('NOT HTTP AT ALL\r\n\r\n');
    await garbage.closed;
    expect(garbage.received()).to.match(/^HTTP\/1\.1 400 Bad Request\r\n/);
    const huge = await open(port);
    huge.socket.write(`GET /-/healthy HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
    await huge.closed;
    expect(huge.received()).to.match(/^HTTP\/1\.1 431 Request Header Fields Too Large\r\n/);
    await eventually(() => lines.filter((l) => l['message'] === 'malformed HTTP request; connection closed').length === 2, 'two log lines');
    expect(lines.filter((l) => l['message'] === 'malformed HTTP request; connection closed').map((l) => l['status'])).to.deep.equal([400, 431]);
  });

  it('closes an idle keep-alive connection after idle_timeout', async () => {
    await start('idle_timeout: 200ms');
    const raw = await open(port);
    raw.socket.write(head(BODY.length) + BODY);
    await raw.closed;
    expect(raw.received()).to.match(/^HTTP\/1\.1 200 OK\r\n/).and.match(/\r\nConnection: keep-alive\r\n/i);
  });

  it('serves a normal webhook while 200 slow clients dribble their bodies; each of them is cut in the end', async () => {
    await start('request_timeout: 3s, header_timeout: 3s');
    const slow = await Promise.all(Array.from({ length: 200 }, () => open(port)));
    for (const raw of slow) raw.socket.write(head(BODY.length));
    let sent = 0;
    const dribble = setInterval(() => {
      for (const raw of slow) if (!raw.socket.destroyed) raw.socket.write(BODY.charAt(sent));
      sent++;
    }, 50);
    try {
      expect(await post()).to.equal(200);
      expect(slow.filter((raw) => raw.socket.destroyed)).to.have.length(0);
      await Promise.all(slow.map((raw) => raw.closed));
      expect(slow.filter((raw) => !/^HTTP\/1\.1 408 /.test(raw.received()))).to.have.length(0);
    } finally {
      clearInterval(dribble);
    }
  });

  it('closes connections past max_connections at once and logs it; the others are served', async () => {
    await start('max_connections: 3');
    const held = await Promise.all([open(port), open(port), open(port)]);
    const extra = await open(port);
    await extra.closed;
    expect(extra.received()).to.equal('');
    await eventually(() => lines.find((l) => l['message'] === 'connection refused: limits.max_connections reached'), 'the log line');
    held[0]!.socket.write(head(BODY.length) + BODY);
    await eventually(() => held[0]!.received().startsWith('HTTP/1.1 200 OK'), 'an answer on a held connection');
    for (const raw of held) raw.socket.destroy();
  });
});
