import { connect } from 'node:net';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { deflateSync, gzipSync } from 'node:zlib';
import { expect } from 'chai';
import { webhookFirst } from '../../src/receiver/webhook.js';
import { loopbackTarget, startApp, type LoopbackTarget, type TestApp } from '../helpers/servers.js';
import { fixture } from '../helpers/fixtures.js';

const LIMIT = 2048;
const BODY = JSON.stringify(fixture());

function yaml(url: string): string {
  return `storage: {path: ":memory:"}
dispatch: {response_deadline: 2s, timeout: 1s}
limits: {max_body_bytes: ${LIMIT}}
targets:
  - {name: a, type: webhook, url: "${url}/a"}
  - {name: b, type: webhook, url: "${url}/b"}
  - {name: c, type: webhook, url: "${url}/c"}`;
}

/** A parsed HTTP/1.1 answer read off a raw socket. */
interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * Write `data` on a raw loopback socket and read `answers` HTTP answers (each with a Content-Length).
 * The socket stays open until then, so an answer to an incomplete request came before its end.
 */
function exchange(base: string, data: Array<string | Buffer>, answers = 1): Promise<RawAnswer[]> {
  return new Promise((resolve, reject) => {
    const socket = connect(Number(new URL(base).port), '127.0.0.1');
    let buffered = Buffer.alloc(0);
    const parsed: RawAnswer[] = [];
    socket.on('error', reject);
    socket.on('close', () => reject(new Error(`connection closed after ${parsed.length} answer(s)`)));
    socket.on('data', (chunk: Buffer) => {
      buffered = Buffer.concat([buffered, chunk]);
      for (;;) {
        const headEnd = buffered.indexOf('\r\n\r\n');
        if (headEnd === -1) return;
        const [statusLine = '', ...lines] = buffered.subarray(0, headEnd).toString('latin1').split('\r\n');
        const headers = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
        const length = Number(headers['content-length'] ?? 0);
        if (buffered.length < headEnd + 4 + length) return;
        parsed.push({ status: Number(statusLine.split(' ')[1]), headers, body: buffered.subarray(headEnd + 4, headEnd + 4 + length).toString('utf8') });
        buffered = buffered.subarray(headEnd + 4 + length);
        if (parsed.length === answers) {
          socket.removeAllListeners('close');
          socket.destroy();
          resolve(parsed);
          return;
        }
      }
    });
    for (const d of data) socket.write(d);
  });
}

const head = (path: string, headers: Record<string, string | number>) =>
  `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`;

describe('POST /webhook on bare node:http', () => {
  let app: TestApp;
  let target: LoopbackTarget;
  beforeEach(async () => {
    target = await loopbackTarget();
    app = await startApp(yaml(target.url));
  });
  afterEach(async () => {
    await app.close();
    await target.close();
  });

  it('answers the dispatch result as JSON with its charset and length, as res.json did', async () => {
    const [answer] = await exchange(app.base, [head('/webhook', { 'content-type': 'application/json', 'content-length': Buffer.byteLength(BODY) }), BODY]);
    expect(answer?.status).to.equal(200);
    expect(answer?.headers['content-type']).to.equal('application/json; charset=utf-8');
    expect(Number(answer?.headers['content-length'])).to.equal(Buffer.byteLength(answer?.body ?? ''));
    expect(JSON.parse(answer?.body ?? '')).to.include({ outcome: 'delivered' });
  });

  it('accepts application/json with parameters and application/*+json, and answers 415 to anything else', async () => {
    for (const type of ['application/json; charset=utf-8', 'Application/JSON;charset="UTF-8"', 'application/vnd.foo+json']) {
      expect((await app.post('/webhook', fixture('am025-all-resolved.json'), { 'content-type': type })).status, type).to.equal(200);
    }
    for (const type of ['text/plain', 'application/jsonx', 'application/+json', 'text/x+json']) {
      const res = await app.post('/webhook', BODY, { 'content-type': type });
      expect(res.status, type).to.equal(415);
      expect(res.body).to.deep.equal({ error: 'unsupported media type: send Content-Type: application/json' });
    }
    const charset = await app.post('/webhook', BODY, { 'content-type': 'application/json; charset=latin1' });
    expect(charset.status).to.equal(415);
    expect(charset.body).to.deep.equal({ error: 'unsupported charset "LATIN1"' });
  });

  it('refuses a Content-Length over max_body_bytes with 413 before reading the body', async () => {
    // Only the headers and a few bytes are sent: an answer proves the server did not wait for the rest.
    const [answer] = await exchange(app.base, [head('/webhook', { 'content-type': 'application/json', 'content-length': 10_000_000 }), '{"a":']);
    expect(answer?.status).to.equal(413);
    expect(JSON.parse(answer?.body ?? '')).to.deep.equal({ error: `payload too large (limit ${LIMIT} bytes)` });
    expect(target.received).to.have.length(0);
  });

  it('answers 413 to a chunked body as soon as it passes max_body_bytes, without waiting for its end', async () => {
    const chunk = 'x'.repeat(1500);
    const chunked = `${(6).toString(16)}\r\n{"a":"\r\n${chunk.length.toString(16)}\r\n${chunk}\r\n`;
    // Two chunks of 1500 bytes and never the final zero-length chunk.
    const [answer] = await exchange(app.base, [head('/webhook', { 'content-type': 'application/json', 'transfer-encoding': 'chunked' }), chunked, `${chunk.length.toString(16)}\r\n${chunk}\r\n`]);
    expect(answer?.status).to.equal(413);
    expect(JSON.parse(answer?.body ?? '')).to.deep.equal({ error: `payload too large (limit ${LIMIT} bytes)` });
  });

  it('keeps the connection usable after a 413: the rest of the body is drained, not answered as a request', async () => {
    const big = `{"a":"${'x'.repeat(5000)}"}`;
    const [tooLarge, next] = await exchange(
      app.base,
      [head('/webhook', { 'content-type': 'application/json', 'content-length': big.length }), big, head('/webhook', { 'content-type': 'application/json', 'content-length': Buffer.byteLength(BODY) }), BODY],
      2,
    );
    expect(tooLarge?.status).to.equal(413);
    expect(next?.status).to.equal(200);
  });

  it('inflates gzip and deflate bodies, counts the limit after inflating, and refuses other encodings with 415', async () => {
    const post = (encoding: string, body: Buffer | string) =>
      exchange(app.base, [head('/webhook', { 'content-type': 'application/json', 'content-encoding': encoding, 'content-length': Buffer.byteLength(body) }), body]);
    expect((await post('gzip', gzipSync(BODY)))[0]?.status).to.equal(200);
    expect((await post('deflate', deflateSync(JSON.stringify(fixture('am025-all-resolved.json')))))[0]?.status).to.equal(200);
    const bomb = (await post('gzip', gzipSync(`{"a":"${'x'.repeat(100_000)}"}`)))[0];
    expect(bomb?.status).to.equal(413);
    const corrupt = (await post('gzip', 'not gzip'))[0];
    expect(corrupt?.status).to.equal(400);
    expect(JSON.parse(corrupt?.body ?? '')).to.deep.equal({ error: 'incorrect header check' });
    const unknown = (await post('x-foo', BODY))[0];
    expect(unknown?.status).to.equal(415);
    expect(JSON.parse(unknown?.body ?? '')).to.deep.equal({ error: 'unsupported content encoding "x-foo"' });
  });

  it('answers 400 with the parser\'s reason to a body that is not JSON, and treats an empty body as {}', async () => {
    const res = await app.post('/webhook', '{"a":');
    expect(res.status).to.equal(400);
    expect(res.body).to.deep.equal({ error: 'body is not valid JSON', details: ['Unexpected end of JSON input'] });
    const empty = await app.post('/webhook', '');
    expect(empty.status).to.equal(400);
    expect(empty.body.error).to.equal('invalid Alertmanager webhook payload');
  });

  it('takes ?targets= as repeated parameters and comma lists', async () => {
    const res = await app.post('/webhook?targets=a,%20b&targets=b', fixture());
    expect(res.status).to.equal(200);
    expect(res.body.targets.map((t: { target: string }) => t.target)).to.deep.equal(['a', 'b']);
    const unknown = await app.post('/webhook?targets=a&targets=zzz', fixture());
    expect(unknown.status).to.equal(400);
    expect(unknown.body).to.deep.equal({ error: 'unknown target(s) in ?targets=: zzz' });
  });

  it('leaves other methods and paths to Express: 404 JSON, and /webhook/ still served by the same handler', async () => {
    const get = await app.get('/webhook');
    expect(get.status).to.equal(404);
    expect(get.body).to.deep.equal({ error: 'not found' });
    expect((await app.post('/webhooks', fixture())).status).to.equal(404);
    expect((await app.post('/webhook/', fixture())).status).to.equal(200);
    expect((await app.post('/webhook/', 'x', { 'content-type': 'text/plain' })).status).to.equal(415);
  });

  it('counts every answer by status code (every code of the contract from 0) and times it', async () => {
    expect((await app.post('/webhook', 'x', { 'content-type': 'text/plain' })).status).to.equal(415);
    expect((await app.post('/webhook', fixture())).status).to.equal(200);
    const requests = await app.mux.metrics.webhookRequests.get();
    const byCode = Object.fromEntries(requests.values.map((v) => [v.labels.code, v.value]));
    expect(byCode).to.deep.equal({ 200: 1, 202: 0, 400: 0, 401: 0, 413: 0, 415: 1, 500: 0, 503: 0 });
    const duration = await app.mux.metrics.webhookDuration.get();
    expect(duration.values.find((v) => v.metricName === 'alertmux_webhook_request_duration_seconds_count')?.value).to.equal(2);
  });
});

describe('webhookFirst', () => {
  const route = (method: string, url: string) => {
    let served = '';
    const handler = webhookFirst(
      () => void (served = 'webhook'),
      () => void (served = 'express'),
    );
    handler({ method, url } as IncomingMessage, {} as ServerResponse);
    return served;
  };

  it('serves POST /webhook, with or without a query, on the bare handler', () => {
    expect(route('POST', '/webhook')).to.equal('webhook');
    expect(route('POST', '/webhook?targets=a,b')).to.equal('webhook');
  });

  it('leaves every other method and path to Express', () => {
    for (const [method, url] of [['GET', '/webhook'], ['PUT', '/webhook'], ['POST', '/webhook/'], ['POST', '/webhooks'], ['POST', '/webhook/x'], ['POST', '/api/v1/publish/parallel'], ['GET', '/metrics']] as const) {
      expect(route(method, url), `${method} ${url}`).to.equal('express');
    }
  });
});
