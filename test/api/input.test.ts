import { spawnSync } from 'node:child_process';
import { expect } from 'chai';
import { request } from 'undici';
import { integer, oneOf, queryProblem, text } from '../../src/api/input.js';
import { collectProcessMetrics } from '../../src/observability/process-metrics.js';
import { fixture } from '../helpers/fixtures.js';
import { loopbackTarget, startApp, type LoopbackTarget, type TestApp } from '../helpers/servers.js';

describe('API input', () => {
  describe('query parameters', () => {
    const spec = { state: oneOf(['dead', 'pending']), limit: integer(1, 1000), target: text };

    it('accept what the spec allows', () => {
      expect(queryProblem({}, spec)).to.equal(undefined);
      expect(queryProblem({ state: 'dead', limit: '1000', target: 'pd' }, spec)).to.equal(undefined);
      expect(queryProblem({ limit: '1' }, spec)).to.equal(undefined);
    });

    it('name the parameter and the reason for anything else', () => {
      expect(queryProblem({ limit: '1.5' }, spec)).to.equal('query parameter limit must be a whole number from 1 to 1000');
      for (const limit of ['0', '1001', '-1', '1e3', '', ' 5', '0x10', '99999999999999999999']) {
        expect(queryProblem({ limit }, spec), limit).to.match(/^query parameter limit must be/);
      }
      expect(queryProblem({ state: 'gone' }, spec)).to.equal('query parameter state must be one of dead, pending');
      expect(queryProblem({ state: ['dead', 'pending'] }, spec)).to.equal('query parameter state must be given once, as text');
      expect(queryProblem({ target: '' }, spec)).to.equal('query parameter target must be 1 to 256 characters');
      expect(queryProblem({ status: 'dead' }, spec)).to.equal('unknown query parameter "status" (known: state, limit, target)');
      expect(queryProblem({ toString: 'x' }, spec)).to.match(/^unknown query parameter "toString"/);
      expect(queryProblem({ x: '1' }, {})).to.equal('unknown query parameter "x" (this route takes none)');
    });
  });

  describe('in the app', () => {
    let app: TestApp;
    let hook: LoopbackTarget;
    before(async () => {
      hook = await loopbackTarget(() => ({ status: 400 }));
      app = await startApp(`storage: {path: ':memory:'}\ntargets:\n  - {name: logs, type: log}\n  - {name: strict, type: webhook, url: '${hook.url}/hook'}\n`);
      expect((await app.post('/webhook', fixture())).status).to.equal(202);
    });
    after(async () => {
      await app.close();
      await hook.close();
    });

    /** A raw request (any method, body and content type). */
    const call = async (method: string, path: string, body?: string, contentType = 'application/json') => {
      const res = await request(`${app.base}${path}`, {
        method: method as 'GET',
        body,
        headers: body === undefined ? {} : { 'content-type': contentType },
      });
      const raw = await res.body.text();
      let parsed: { error?: string } = {};
      try {
        parsed = JSON.parse(raw) as { error?: string };
      } catch {
        // text answer
      }
      return { status: res.statusCode, headers: res.headers, body: parsed, text: raw };
    };

    it('answer 400 with the reason for a bad query of GET /api/v1/deliveries, and list with a good one', async () => {
      for (const [query, reason] of [
        ['limit=1.5', 'query parameter limit must be a whole number from 1 to 1000'],
        ['limit=0', 'query parameter limit must be a whole number from 1 to 1000'],
        ['limit=abc', 'query parameter limit must be a whole number from 1 to 1000'],
        ['state=gone', 'query parameter state must be one of pending, delivered, dead, skipped, superseded'],
        ['state=dead&state=pending', 'query parameter state must be given once, as text'],
        ['target=', 'query parameter target must be 1 to 256 characters'],
        ['status=dead', 'unknown query parameter "status" (known: state, target, notification, reason, since, until, limit, cursor)'],
      ]) {
        const res = await call('GET', `/api/v1/deliveries?${query}`);
        expect(res.status, query).to.equal(400);
        expect(res.body.error, query).to.equal(reason);
      }
      const dead = await call('GET', '/api/v1/deliveries?state=dead&target=strict&limit=1');
      expect(dead.status).to.equal(200);
      expect((dead.body as { deliveries: unknown[] }).deliveries).to.have.length(1);
    });

    it('answer 400 to a query parameter on routes that take none', async () => {
      for (const [method, path] of [
        ['GET', '/api/v1/targets?verbose=1'],
        ['GET', '/api/v1/targets/logs?x=1'],
        ['POST', '/api/v1/targets/logs/check?now=1'],
        ['GET', '/api/v1/deliveries/d_x?x=1'],
        ['DELETE', '/api/v1/deliveries/d_x?force=1'],
        ['POST', '/api/v1/deliveries/d_x/replay?x=1'],
        ['GET', '/api/v1/notifications/n_x?x=1'],
        ['GET', '/api/v1/publish/parallel/status?window=1m'],
      ] as const) {
        const res = await call(method, path);
        expect(res.status, `${method} ${path}`).to.equal(400);
        expect(res.body.error, path).to.match(/^unknown query parameter ".+" \(this route takes none\)$/);
      }
    });

    it('answer 400 or 415 with the reason for a bad body of POST /api/v1/deliveries/replay', async () => {
      for (const [body, status, reason] of [
        ['[]', 400, 'the body must be a JSON object'],
        ['"dead"', 400, 'the body must be a JSON object'],
        ['null', 400, 'the body must be a JSON object'],
        ['{"target": "strict", "force": true}', 400, 'unknown field(s) force (known: target, state, ids, since)'],
        ['{"ids": []}', 400, 'ids must be an array of 1 to 1000 delivery ids'],
        ['{"ids": [1]}', 400, 'ids must be an array of 1 to 1000 delivery ids'],
        ['{"ids": [""]}', 400, 'ids must be an array of 1 to 1000 delivery ids'],
        ['{"target": ""}', 400, 'target must be a target name'],
        ['{"state": "delivered"}', 400, 'state must be dead or pending'],
        ['{}', 400, 'give a filter: {"target": "...", "state": "dead", "since": "1h"} or {"ids": [...]}; {"state": "dead"} replays every dead letter'],
      ] as const) {
        const res = await call('POST', '/api/v1/deliveries/replay', body);
        expect(res.status, body).to.equal(status);
        expect(res.body.error, body).to.equal(reason);
      }
      const plain = await call('POST', '/api/v1/deliveries/replay', 'target=strict', 'application/x-www-form-urlencoded');
      expect(plain.status).to.equal(415);
      expect(plain.body.error).to.equal('the body must be JSON (Content-Type: application/json)');
    });

    it('answer 400 to fields a publish route does not take', async () => {
      const message = fixture();
      for (const [path, body, reason] of [
        ['/api/v1/publish/parallel/all', { message, targets: ['logs'] }, 'unknown field(s) targets (known: message, strategy)'],
        ['/api/v1/publish/parallel/healthy', { message, strategy: 'publish_to_all' }, 'unknown field(s) strategy (known: message)'],
        ['/api/v1/publish/parallel', { message, targets: ['logs'], priority: 1 }, 'unknown field(s) priority (known: message, targets, strategy)'],
        ['/api/v1/publish/parallel', [message], 'the body must be a JSON object'],
      ] as const) {
        const res = await call('POST', path, JSON.stringify(body));
        expect(res.status, path).to.equal(400);
        expect(res.body.error, path).to.equal(reason);
      }
      expect((await call('POST', '/api/v1/publish/parallel', JSON.stringify({ message, targets: ['logs'] }))).status).to.equal(200);
    });

    it('answer 405 with Allow to the wrong method on /-/reload, /metrics, /-/healthy and /-/ready', async () => {
      const reload = await call('GET', '/-/reload');
      expect(reload.status).to.equal(405);
      expect(reload.headers['allow']).to.equal('POST');
      expect((await call('PUT', '/-/reload')).status).to.equal(405);
      for (const path of ['/metrics', '/-/healthy', '/-/ready']) {
        const res = await call('POST', path);
        expect(res.status, path).to.equal(405);
        expect(res.headers['allow'], path).to.equal('GET, HEAD');
      }
      expect((await call('POST', '/-/reload')).status).to.equal(200);
    });

    it("serve /metrics that pass promtool check metrics (Debian's prometheus package; required under CI)", async function () {
      if (spawnSync('promtool', ['--version']).error) {
        if (process.env['CI']) throw new Error('CI is set but promtool is not on PATH: .ci/run must apt-get install prometheus');
        console.log('      (skipped: no promtool on PATH; apt-get install prometheus to run it)');
        this.skip();
      }
      collectProcessMetrics(app.registry);
      const text = (await app.get('/metrics')).text;
      // The failed, dead-lettered and delivered series are all there, so their label sets are checked too.
      expect(text).to.include('alertmux_dead_letters_total{target="strict",reason="clientError"} 1');
      expect(text).to.include('nodejs_active_handles{');
      const result = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
      expect(result.status, result.stdout + result.stderr).to.equal(0);
      expect(result.stdout + result.stderr).to.equal('');
    });
  });
});
