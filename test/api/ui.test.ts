import { expect } from 'chai';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { startApp, type TestApp } from '../helpers/servers.js';

const TOKEN = 'ui-test-admin-token';

/** A raw GET that does not follow redirects, with the headers kept. */
async function raw(app: TestApp, path: string, headers: Record<string, string> = {}) {
  const res = await request(`${app.base}${path}`, { headers });
  return { status: res.statusCode, headers: res.headers, text: await res.body.text() };
}

describe('the console routes', () => {
  let dir: string;
  let app: TestApp | undefined;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'alertmux-ui-'));
    mkdirSync(join(dir, 'assets'));
    writeFileSync(join(dir, 'index.html'), '<!doctype html><title>console</title><script type="module" src="assets/app-ABC123.js"></script>');
    writeFileSync(join(dir, 'assets', 'app-ABC123.js'), 'console.log("console")');
    writeFileSync(join(dir, 'assets', 'app-ABC123.css'), 'body{}');
    writeFileSync(join(dir, 'secret.txt'), 'not for the browser');
  });

  afterEach(async () => {
    await app?.close();
    app = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  const start = async (admin = `admin: {bearer_token: ${TOKEN}}`, uiDir = dir) => {
    app = await startApp(`storage: {path: ":memory:"}\n${admin}\ntargets: []\n`, { uiDir });
    return app;
  };

  it('redirects / and /ui to /ui/ (relative, so a path prefix in front of alertmux keeps working)', async () => {
    const a = await start();
    const root = await raw(a, '/');
    expect(root.status).to.equal(302);
    expect(root.headers['location']).to.equal('ui/');
    const ui = await raw(a, '/ui');
    expect(ui.status).to.equal(301);
    expect(new URL(String(ui.headers['location']), `${a.base}/ui`).pathname).to.equal('/ui/');
  });

  it('serves the console without a token (it asks for one itself), with a same-origin-only CSP', async () => {
    const a = await start();
    const page = await raw(a, '/ui/');
    expect(page.status).to.equal(200);
    expect(page.headers['content-type']).to.match(/^text\/html/);
    expect(page.headers['cache-control']).to.equal('no-cache');
    expect(page.text).to.include('assets/app-ABC123.js');
    const csp = String(page.headers['content-security-policy']);
    expect(csp).to.include("default-src 'none'").and.include("script-src 'self'").and.include("connect-src 'self'").and.include("frame-ancestors 'none'");
    expect(page.headers['x-content-type-options']).to.equal('nosniff');
    expect(page.headers['referrer-policy']).to.equal('no-referrer');
  });

  it('serves hashed assets with their type and a long cache, and nothing else from the folder', async () => {
    const a = await start();
    const js = await raw(a, '/ui/assets/app-ABC123.js');
    expect(js.status).to.equal(200);
    expect(js.headers['content-type']).to.equal('text/javascript; charset=utf-8');
    expect(js.headers['cache-control']).to.include('immutable');
    expect((await raw(a, '/ui/assets/app-ABC123.css')).headers['content-type']).to.equal('text/css; charset=utf-8');
    for (const path of ['/ui/assets/missing-1.js', '/ui/assets/..%2Fsecret.txt', '/ui/secret.txt', '/ui/assets/%2e%2e%2Findex.html', '/ui/assets/app.txt']) {
      expect((await raw(a, path)).status, path).to.equal(404);
    }
  });

  it('answers 503 with the reason when the console was not built', async () => {
    const a = await start(undefined, join(dir, 'nowhere'));
    const page = await raw(a, '/ui/');
    expect(page.status).to.equal(503);
    expect(page.text).to.include('npm run build');
  });

  it('tells the console whether a token is required and whether the one it sent is right (always 200)', async () => {
    const a = await start();
    expect((await a.get('/api/v1/ui/session')).body).to.deep.equal({ tokenRequired: true, authenticated: false, actions: false });
    const wrong = await a.get('/api/v1/ui/session', { authorization: 'Bearer wrong' });
    expect(wrong.status).to.equal(200);
    expect(wrong.body).to.deep.equal({ tokenRequired: true, authenticated: false, actions: false });
    expect((await a.get('/api/v1/ui/session', { authorization: `Bearer ${TOKEN}` })).body).to.deep.equal({ tokenRequired: true, authenticated: true, actions: true });
    expect((await a.get('/api/v1/ui/session', { authorization: `Basic ${Buffer.from(`x:${TOKEN}`).toString('base64')}` })).body.authenticated).to.equal(false);
    // The rest of the API still needs the token.
    expect((await a.get('/api/v1/targets')).status).to.equal(401);
    expect((await a.get('/api/v1/ui/session?x=1')).status).to.equal(400);
  });

  it('says read-only when no admin token is configured, whatever is sent', async () => {
    const a = await start('');
    expect((await a.get('/api/v1/ui/session')).body).to.deep.equal({ tokenRequired: false, authenticated: false, actions: false });
    expect((await a.get('/api/v1/ui/session', { authorization: 'Bearer anything' })).body.actions).to.equal(false);
  });

  it('follows a reload that sets or changes the token', async () => {
    const a = await start('');
    a.setConfig(`storage: {path: ":memory:"}\nadmin: {bearer_token: ${TOKEN}}\ntargets: []\n`);
    expect((await a.mux.reload()).ok).to.equal(true);
    expect((await a.get('/api/v1/ui/session', { authorization: `Bearer ${TOKEN}` })).body).to.deep.equal({ tokenRequired: true, authenticated: true, actions: true });
  });
});
