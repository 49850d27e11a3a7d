import { expect } from 'chai';
import sinon from 'sinon';
import { Agent, errors } from 'undici';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { classifyError, classifyResponse, deliver, destination, header, parseRetryAfter, reasonFromStatus, send, truncate, type HttpResponse } from '../../src/publishers/http.js';
import { loopbackTarget, refusedPort } from '../helpers/servers.js';
import { mockDeps } from '../helpers/fixtures.js';
import type { FailureReason, Outcome } from '../../src/publishers/publisher.js';

const res = (status: number, body = '', headers: HttpResponse['headers'] = {}): HttpResponse => ({ status, body, headers });
const failed = (o: Outcome) => {
  if (o.ok) throw new Error(`expected a failure, got ${JSON.stringify(o)}`);
  return o;
};
/** Anything that looks like where the request went: URLs, hosts, ports. */
const LOCATION = /https?:|\/\/|127\.0\.0\.1|localhost|example|:\d{2,5}/;

describe('publishers/http', () => {
  describe('classifyResponse (after Alertmanager notify/test.RetryTests)', () => {
    const table: Array<[status: number, retryOn: number[], expected: { ok: true } | { retryable: boolean; reason: FailureReason }]> = [
      [200, [], { ok: true }],
      [201, [], { ok: true }],
      [202, [], { ok: true }],
      [204, [], { ok: true }],
      [100, [], { retryable: false, reason: 'other' }],
      [301, [], { retryable: false, reason: 'other' }],
      [304, [], { retryable: false, reason: 'other' }],
      [400, [], { retryable: false, reason: 'clientError' }],
      [401, [], { retryable: false, reason: 'authError' }],
      [403, [], { retryable: false, reason: 'authError' }],
      [404, [], { retryable: false, reason: 'clientError' }],
      [405, [], { retryable: false, reason: 'clientError' }],
      [408, [], { retryable: false, reason: 'clientError' }],
      [408, [408], { retryable: true, reason: 'clientError' }],
      [409, [408], { retryable: false, reason: 'clientError' }],
      [413, [], { retryable: false, reason: 'clientError' }],
      [422, [], { retryable: false, reason: 'clientError' }],
      [429, [], { retryable: true, reason: 'rateLimited' }],
      [429, [429], { retryable: true, reason: 'rateLimited' }],
      [500, [], { retryable: true, reason: 'serverError' }],
      [501, [], { retryable: true, reason: 'serverError' }],
      [502, [], { retryable: true, reason: 'serverError' }],
      [503, [], { retryable: true, reason: 'serverError' }],
      [504, [], { retryable: true, reason: 'serverError' }],
      [511, [], { retryable: true, reason: 'serverError' }],
    ];
    for (const [status, retryOn, expected] of table) {
      const what = 'ok' in expected ? 'success' : `${expected.retryable ? 'retryable' : 'permanent'} ${expected.reason}`;
      it(`treats ${status}${retryOn.length ? ` with retryOn [${retryOn.join(',')}]` : ''} as ${what}`, () => {
        const outcome = classifyResponse(res(status, 'body'), { retryOn });
        if ('ok' in expected) {
          expect(outcome).to.deep.equal({ ok: true, status });
          return;
        }
        expect(outcome).to.deep.include({ ok: false, status, ...expected });
      });
    }

    it('names the status and the trimmed body in the message', () => {
      expect(failed(classifyResponse(res(400, '  invalid payload\n'))).message).to.equal('unexpected status code 400: invalid payload');
      expect(failed(classifyResponse(res(502))).message).to.equal('unexpected status code 502');
    });

    it('lets a vendor extract its own details from the body', () => {
      const details = (status: number, body: string) => (JSON.parse(body) as { errors: string[] }).errors.join('; ') + ` (${status})`;
      const outcome = classifyResponse(res(400, '{"errors":["a","b"]}'), { details });
      expect(failed(outcome).message).to.equal('unexpected status code 400: a; b (400)');
      expect(failed(classifyResponse(res(400, 'x'), { details: () => undefined })).message).to.equal('unexpected status code 400');
    });

    it('cuts long details to 300 characters, marking the cut', () => {
      const message = failed(classifyResponse(res(500, 'x'.repeat(5000)))).message;
      expect(message).to.equal(`unexpected status code 500: ${'x'.repeat(299)}…`);
    });

    it('keeps Retry-After in seconds as milliseconds', () => {
      expect(failed(classifyResponse(res(429, '', { 'retry-after': '120' }))).retryAfterMs).to.equal(120_000);
      expect(failed(classifyResponse(res(503, '', { 'retry-after': ['7', '9'] }))).retryAfterMs).to.equal(7_000);
      expect(failed(classifyResponse(res(503))).retryAfterMs).to.equal(undefined);
      expect(failed(classifyResponse(res(503))) as object).to.not.have.property('retryAfterMs');
    });

    it('keeps Retry-After as an HTTP date relative to now', () => {
      const clock = sinon.useFakeTimers({ now: Date.parse('2026-11-22T23:00:00Z'), toFake: ['Date'] });
      try {
        const outcome = classifyResponse(res(429, '', { 'retry-after': 'Sun, 22 Nov 2026 23:01:30 GMT' }));
        expect(failed(outcome).retryAfterMs).to.equal(90_000);
      } finally {
        clock.restore();
      }
    });
  });

  describe('parseRetryAfter', () => {
    const now = Date.parse('2026-11-22T23:00:00Z');
    const table: Array<[string | undefined, number | undefined]> = [
      ['0', 0],
      ['30', 30_000],
      [' 30 ', 30_000],
      ['1.5', 1_500],
      ['Sun, 22 Nov 2026 23:00:10 GMT', 10_000],
      ['Sun, 22 Nov 2026 22:00:00 GMT', 0],
      // RFC 850, an obsolete format RFC 9110 §5.6.7 asks recipients to accept.
      ['Sunday, 22-Nov-26 23:00:20 GMT', 20_000],
      ['soon', undefined],
      ['', undefined],
      [undefined, undefined],
    ];
    for (const [value, ms] of table) {
      it(`reads ${JSON.stringify(value)} as ${ms} ms`, () => {
        expect(parseRetryAfter(value, now)).to.equal(ms);
      });
    }

    it('never asks for a wait from a negative value', () => {
      expect(parseRetryAfter('-5', now) ?? 0).to.equal(0);
    });
  });

  describe('helpers', () => {
    it('maps statuses to reason labels', () => {
      expect([429, 401, 403, 500, 404, 302].map(reasonFromStatus)).to.deep.equal(['rateLimited', 'authError', 'authError', 'serverError', 'clientError', 'other']);
    });

    it('reads the first value of a repeated header', () => {
      expect(header({ a: ['1', '2'], b: '3' }, 'a')).to.equal('1');
      expect(header({ b: '3' }, 'b')).to.equal('3');
      expect(header({}, 'c')).to.equal(undefined);
    });

    it('parses a URL into origin and path once, and the same way every time', () => {
      const url = 'https://hooks.example.com:8443/services/T0/B0/secret?x=1&y=%20#frag';
      const first = destination(url);
      expect(first).to.deep.equal({ origin: 'https://hooks.example.com:8443', path: '/services/T0/B0/secret?x=1&y=%20' });
      expect(destination(url)).to.equal(first);
      expect(destination('http://127.0.0.1:9/')).to.deep.equal({ origin: 'http://127.0.0.1:9', path: '/' });
      expect(() => destination('not a url')).to.throw(TypeError);
      expect(() => destination('not a url')).to.throw(TypeError);
    });

    it('keeps parsing right past the most URLs it remembers', () => {
      for (let i = 0; i < 2_500; i++) expect(destination(`http://h${i}.example/p${i}`)).to.deep.equal({ origin: `http://h${i}.example`, path: `/p${i}` });
    });

    it('truncates only what is too long', () => {
      expect(truncate('abc', 3)).to.equal('abc');
      expect(truncate('abcd', 3)).to.equal('ab…');
    });
  });

  describe('classifyError', () => {
    const url = 'https://hooks.example.com/services/T000/B000/SECRET';
    const withCode = (message: string, code: string) => Object.assign(new Error(message), { code });
    const table: Array<[what: string, err: unknown, expected: { retryable: boolean; reason: FailureReason; message: string }]> = [
      ['a TimeoutError (attempt timeout)', new DOMException('attempt timed out', 'TimeoutError'), { retryable: true, reason: 'timeout', message: 'request timed out' }],
      ['an AbortError (shutdown)', new DOMException(`aborted ${url}`, 'AbortError'), { retryable: true, reason: 'canceled', message: 'request canceled' }],
      ['undici RequestAbortedError', new errors.RequestAbortedError(), { retryable: true, reason: 'canceled', message: 'request canceled' }],
      ['ECONNREFUSED', withCode('connect ECONNREFUSED 127.0.0.1:9', 'ECONNREFUSED'), { retryable: true, reason: 'network', message: 'network error: ECONNREFUSED' }],
      ['ENOTFOUND in a cause', Object.assign(new TypeError(`fetch failed ${url}`), { cause: withCode(`getaddrinfo ENOTFOUND ${url}`, 'ENOTFOUND') }), { retryable: true, reason: 'network', message: 'network error: ENOTFOUND' }],
      ['ECONNRESET', withCode(`socket hang up ${url}`, 'ECONNRESET'), { retryable: true, reason: 'network', message: 'network error: ECONNRESET' }],
      ['undici ConnectTimeoutError', new errors.ConnectTimeoutError(`Connect Timeout Error (attempted address: ${url})`), { retryable: true, reason: 'timeout', message: 'request timed out (UND_ERR_CONNECT_TIMEOUT)' }],
      ['undici HeadersTimeoutError', new errors.HeadersTimeoutError(), { retryable: true, reason: 'timeout', message: 'request timed out (UND_ERR_HEADERS_TIMEOUT)' }],
      ['undici BodyTimeoutError', new errors.BodyTimeoutError(), { retryable: true, reason: 'timeout', message: 'request timed out (UND_ERR_BODY_TIMEOUT)' }],
      ['undici SocketError', new errors.SocketError(`other side closed ${url}`), { retryable: true, reason: 'network', message: 'network error: UND_ERR_SOCKET' }],
      ['an error without a code', new Error(`boom at ${url}`), { retryable: true, reason: 'network', message: 'network error' }],
      ['a thrown string', `failed ${url}`, { retryable: true, reason: 'network', message: 'network error' }],
      ['undefined', undefined, { retryable: true, reason: 'network', message: 'network error' }],
    ];
    for (const [what, err, expected] of table) {
      it(`classifies ${what} as ${expected.reason}, without the URL`, () => {
        const outcome = failed(classifyError(err));
        expect(outcome).to.deep.equal({ ok: false, ...expected });
        expect(outcome.message).to.not.match(LOCATION);
      });
    }
  });

  describe('deliver through a MockAgent', () => {
    let deps: ReturnType<typeof mockDeps>;
    const origin = 'https://hooks.example.com';
    beforeEach(() => {
      deps = mockDeps();
    });
    afterEach(async () => {
      deps.agent.assertNoPendingInterceptors();
      await deps.agent.close();
    });

    it('POSTs JSON with the user agent and reports the status', async () => {
      let seen: { method: string; headers: unknown; body: unknown } | undefined;
      deps.agent
        .get(origin)
        .intercept({ path: '/hook', method: 'POST' })
        .reply((opts) => {
          seen = { method: opts.method, headers: opts.headers, body: opts.body };
          return { statusCode: 202, data: '{"status":"accepted"}' };
        });
      const outcome = await deliver(deps, { url: `${origin}/hook`, body: { a: 1 }, headers: { 'x-extra': 'yes' } }, AbortSignal.timeout(5000));
      expect(outcome).to.deep.equal({ ok: true, status: 202 });
      expect(seen!.method).to.equal('POST');
      expect(JSON.parse(String(seen!.body))).to.deep.equal({ a: 1 });
      expect(seen!.headers).to.deep.include({ 'content-type': 'application/json', 'user-agent': 'alertmux-test', 'x-extra': 'yes' });
    });

    it('sends a string body as it is and keeps a content type the caller set', async () => {
      let seen: { headers: Record<string, string>; body: unknown } | undefined;
      deps.agent
        .get(origin)
        .intercept({ path: '/put', method: 'PUT' })
        .reply((opts) => {
          seen = { headers: opts.headers as Record<string, string>, body: opts.body };
          return { statusCode: 204, data: '' };
        });
      const outcome = await deliver(deps, { url: `${origin}/put`, method: 'PUT', body: 'a=1', headers: { 'Content-Type': 'text/plain' } }, AbortSignal.timeout(5000));
      expect(outcome).to.deep.equal({ ok: true, status: 204 });
      expect(seen!.body).to.equal('a=1');
      expect(seen!.headers['Content-Type']).to.equal('text/plain');
      expect(seen!.headers).to.not.have.property('content-type');
    });

    it('sends no body and no content type on a GET', async () => {
      let headers: Record<string, string> = {};
      deps.agent
        .get(origin)
        .intercept({ path: '/health', method: 'GET' })
        .reply((opts) => {
          headers = opts.headers as Record<string, string>;
          return { statusCode: 200, data: 'ok' };
        });
      expect(await deliver(deps, { url: `${origin}/health`, method: 'GET' }, AbortSignal.timeout(5000))).to.deep.equal({ ok: true, status: 200 });
      expect(headers).to.not.have.property('content-type');
    });

    it('classifies a 503 with Retry-After as retryable and keeps the delay', async () => {
      deps.agent.get(origin).intercept({ path: '/hook', method: 'POST' }).reply(503, 'maintenance', { headers: { 'retry-after': '30' } });
      const outcome = await deliver(deps, { url: `${origin}/hook`, body: {} }, AbortSignal.timeout(5000));
      expect(outcome).to.deep.equal({ ok: false, retryable: true, reason: 'serverError', status: 503, message: 'unexpected status code 503: maintenance', retryAfterMs: 30_000 });
    });

    it('applies the vendor policy', async () => {
      deps.agent.get(origin).intercept({ path: '/hook', method: 'POST' }).reply(408, 'slow');
      const outcome = await deliver(deps, { url: `${origin}/hook`, body: {} }, AbortSignal.timeout(5000), { retryOn: [408] });
      expect(outcome).to.deep.include({ ok: false, retryable: true, status: 408 });
    });

    it('reads a huge error body but keeps only a short message', async () => {
      deps.agent.get(origin).intercept({ path: '/hook', method: 'POST' }).reply(500, 'e'.repeat(200_000));
      const outcome = failed(await deliver(deps, { url: `${origin}/hook`, body: {} }, AbortSignal.timeout(5000)));
      expect(outcome.message.length).to.be.at.most(330);
    });

    it('turns a transport error into a retryable outcome without the URL', async () => {
      deps.agent
        .get(origin)
        .intercept({ path: '/services/T0/B0/SECRET', method: 'POST' })
        .replyWithError(Object.assign(new Error(`connect ECONNREFUSED ${origin}/services/T0/B0/SECRET`), { code: 'ECONNREFUSED' }));
      const outcome = failed(await deliver(deps, { url: `${origin}/services/T0/B0/SECRET`, body: {} }, AbortSignal.timeout(5000)));
      expect(outcome).to.deep.include({ retryable: true, reason: 'network' });
      expect(outcome.message).to.not.match(LOCATION);
      expect(outcome.message).to.not.include('SECRET');
    });

    it('never throws, also when nothing answers (net connect disabled)', async () => {
      const outcome = failed(await deliver(deps, { url: 'https://unmocked.example.com/SECRET', body: {} }, AbortSignal.timeout(5000)));
      expect(outcome.retryable).to.equal(true);
      expect(outcome.message).to.not.include('SECRET');
    });
  });

  describe('deliver to real loopback servers', () => {
    const agent = new Agent({ keepAliveTimeout: 10 });
    const deps = { http: agent, userAgent: 'alertmux-test' };
    after(() => agent.close());

    it('reads a body whose characters are split across chunks whole, and keeps at most 64 KiB of a long one', async () => {
      const euro = Buffer.from('€', 'utf8'); // 3 bytes
      const server = createServer((req, res) => {
        res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
        if (req.url === '/split') {
          res.write(Buffer.concat([Buffer.from('a'), euro.subarray(0, 1)]));
          setTimeout(() => res.end(Buffer.concat([euro.subarray(1), Buffer.from('b')])), 10);
        } else res.end('x'.repeat(100 * 1024));
      }).listen(0, '127.0.0.1');
      await new Promise((resolve) => server.once('listening', resolve));
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      try {
        expect((await send(deps, { url: `${base}/split`, method: 'GET' }, AbortSignal.timeout(5000))).body).to.equal('a€b');
        expect((await send(deps, { url: `${base}/long`, method: 'GET' }, AbortSignal.timeout(5000))).body).to.have.length(64 * 1024);
      } finally {
        server.close();
      }
    });

    it('sends the path and query as given, and answers status, headers and body', async () => {
      const target = await loopbackTarget(() => ({ status: 202, headers: { 'x-request-id': 'abc' }, body: 'accepted' }));
      try {
        const res = await send(deps, { url: `${target.url}/v1/hook?token=a%20b&x=1`, body: { a: 1 } }, AbortSignal.timeout(5000));
        expect([res.status, res.headers['x-request-id'], res.body]).to.deep.equal([202, 'abc', 'accepted']);
        expect(target.received[0]).to.deep.include({ path: '/v1/hook?token=a%20b&x=1', body: { a: 1 } });
        expect(target.received[0]?.headers).to.include({ 'user-agent': 'alertmux-test', 'content-type': 'application/json' });
      } finally {
        await target.close();
      }
    });

    it('reports a URL it cannot parse as a failure, without throwing', async () => {
      const outcome = failed(await deliver(deps, { url: 'not a url', body: {} }, AbortSignal.timeout(5000)));
      expect(outcome.message).not.to.contain('not a url');
    });

    it('reports a refused connection as a retryable network error without the address', async () => {
      const port = await refusedPort();
      const outcome = failed(await deliver(deps, { url: `http://127.0.0.1:${port}/hook?token=SECRET`, body: {} }, AbortSignal.timeout(5000)));
      expect(outcome).to.deep.equal({ ok: false, retryable: true, reason: 'network', message: 'network error: ECONNREFUSED' });
    });

    it('reports a server that hangs as a timeout when the attempt signal fires', async () => {
      const controller = new AbortController();
      // Abort as the dispatcher does on its per-attempt timer, once the request has arrived.
      const target = await loopbackTarget(() => {
        controller.abort(new DOMException('attempt timed out', 'TimeoutError'));
        return 'hang';
      });
      try {
        const outcome = failed(await deliver(deps, { url: `${target.url}/hook?token=SECRET`, body: { a: 1 } }, controller.signal));
        expect(outcome).to.deep.equal({ ok: false, retryable: true, reason: 'timeout', message: 'request timed out' });
      } finally {
        await target.close();
      }
    });

    it('reports a timeout from AbortSignal.timeout the same way', async () => {
      const target = await loopbackTarget(() => 'hang');
      try {
        const outcome = failed(await deliver(deps, { url: `${target.url}/hook`, body: {} }, AbortSignal.timeout(50)));
        expect(outcome).to.deep.include({ retryable: true, reason: 'timeout' });
      } finally {
        await target.close();
      }
    });

    it('reports a request cancelled on shutdown as canceled', async () => {
      const controller = new AbortController();
      const target = await loopbackTarget(() => {
        controller.abort();
        return 'hang';
      });
      try {
        const outcome = failed(await deliver(deps, { url: `${target.url}/hook`, body: {} }, controller.signal));
        expect(outcome).to.deep.include({ retryable: true, reason: 'canceled', message: 'request canceled' });
      } finally {
        await target.close();
      }
    });

    it('reads the status and body a real server answers', async () => {
      const target = await loopbackTarget(() => ({ status: 429, body: 'slow down', headers: { 'retry-after': '2' } }));
      try {
        const outcome = await deliver(deps, { url: `${target.url}/hook`, body: { a: 1 } }, AbortSignal.timeout(5000));
        expect(outcome).to.deep.equal({ ok: false, retryable: true, reason: 'rateLimited', status: 429, message: 'unexpected status code 429: slow down', retryAfterMs: 2_000 });
        expect(target.received[0]).to.deep.include({ path: '/hook', body: { a: 1 } });
      } finally {
        await target.close();
      }
    });
  });
});
