import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { request } from 'undici';
import { readJsonBody } from '../../src/receiver/body.js';
import { loopbackTarget, startApp, type LoopbackTarget, type TestApp } from '../helpers/servers.js';
import { fixture } from '../helpers/fixtures.js';

describe('readJsonBody', () => {
  let server: Server;
  let base: string;
  before(async () => {
    // Answers what readJsonBody gave: the body, or the error's status, type and message.
    server = createServer((req, res) =>
      readJsonBody(req, 64, (err, body) => res.end(JSON.stringify(err ? { status: err.status, type: err.type, message: err.message } : { body }))),
    );
    server.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise((resolve) => server.close(resolve)));

  const read = async (body: string | Buffer, contentType = 'application/json') => {
    const res = await request(base, { method: 'POST', headers: { 'content-type': contentType }, body });
    return (await res.body.json()) as { body?: unknown; status?: number; type?: string; message?: string };
  };

  it('parses any JSON value, and an empty body as {}', async () => {
    expect(await read('{"a":[1,"x"]}')).to.deep.equal({ body: { a: [1, 'x'] } });
    expect(await read('"text"')).to.deep.equal({ body: 'text' });
    expect(await read('')).to.deep.equal({ body: {} });
  });

  it('drops a UTF-8 byte order mark and decodes other UTF charsets', async () => {
    expect(await read('\ufeff{"a":"é"}')).to.deep.equal({ body: { a: 'é' } });
    expect(await read(Buffer.from('{"a":"é"}', 'utf16le'), 'application/json; charset=utf-16le')).to.deep.equal({ body: { a: 'é' } });
  });

  it('refuses a charset that is not UTF with 415, as body-parser did', async () => {
    expect(await read('{}', 'application/json; charset=iso-8859-1')).to.deep.equal({
      status: 415,
      type: 'charset.unsupported',
      message: 'unsupported charset "ISO-8859-1"',
    });
  });

  it('reports a body over the limit and a body that is not JSON with body-parser\'s error types', async () => {
    expect(await read(`"${'x'.repeat(100)}"`)).to.include({ status: 413, type: 'entity.too.large' });
    expect(await read('{"a":')).to.deep.equal({ status: 400, type: 'entity.parse.failed', message: 'Unexpected end of JSON input' });
  });
});

describe('JSON bodies on the Express routes', () => {
  let app: TestApp;
  let target: LoopbackTarget;
  beforeEach(async () => {
    target = await loopbackTarget();
    app = await startApp(`storage: {path: ":memory:"}\ntargets:\n  - {name: a, type: webhook, url: "${target.url}"}\n`);
  });
  afterEach(async () => {
    await app.close();
    await target.close();
  });

  it('lets the publish API take a body up to 4 MiB (not the 64 KiB of the replay route)', async () => {
    const message = { ...fixture(), commonAnnotations: { padding: 'x'.repeat(100_000) } };
    expect((await app.post('/api/v1/publish/parallel/all', { message })).status).to.equal(200);
    const tooLarge = await app.post('/api/v1/publish/parallel/all', { message: { padding: 'x'.repeat(4 * 1024 * 1024) } });
    expect(tooLarge.status).to.equal(413);
    expect(tooLarge.body).to.deep.equal({ error: 'payload too large' });
  });

  it('leaves a body that is not JSON unread on the publish API (415 with the reason)', async () => {
    const res = await app.post('/api/v1/publish/parallel/all', 'x', { 'content-type': 'text/plain' });
    expect(res.status).to.equal(415);
    expect(res.body.error).to.equal('the body must be JSON (Content-Type: application/json)');
  });

  it('answers 404 to a JSON body posted to an unknown route, without parsing it', async () => {
    expect((await app.post('/nope', 'not json')).status).to.equal(404);
    expect((await app.post('/nope', { big: 'x'.repeat(100_000) })).status).to.equal(404);
  });
});
