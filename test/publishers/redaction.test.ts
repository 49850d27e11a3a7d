import { expect } from 'chai';
import { deliver, truncate } from '../../src/publishers/http.js';
import { createRedactor, redactorOf, secretForms, type SecretField, type SecretShape } from '../../src/publishers/redaction.js';
import { createPublisher, redactTarget, targetRedactor, targetSchemas, targetSecretFields } from '../../src/publishers/registry.js';
import type { TargetConfig } from '../../src/config/target.js';
import { ctx, mockDeps, targetMessage } from '../helpers/fixtures.js';

const b64 = (text: string) => Buffer.from(text).toString('base64');

describe('the redaction helper', () => {
  const PASSWORD = 'p@ss/w+rd=Q7x';
  const TOKEN = 'tok_8fJ2kL0qZ';
  const HOOK = 'https://hooks.example.com/services/T0ABCDEFG/B0HIJKLMN/q8Vx2LmN4pRt6WyZ1aBc3DeF?token=qT0k%2Bn3n_9w&v=1';
  const fields: SecretField[] = [
    { path: 'url', shape: 'url' },
    { path: 'basic_auth', shape: 'basic' },
    { path: 'bearer_token', shape: 'bearer' },
    { path: 'headers.*', shape: 'value' },
    { path: 'signing_secret', shape: 'signing' },
  ];
  const config = {
    url: HOOK,
    basic_auth: { username: 'alertmux', password: PASSWORD },
    bearer_token: TOKEN,
    headers: { 'X-Api-Key': 'key-Hd73kQ9', 'X-Other': 'val-Pq02nB5' },
    signing_secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  };
  const redact = redactorOf(config, fields);

  // Each row: a text as an echo or an error could carry a secret, and what must not survive in it.
  const rows: Array<[what: string, text: string, gone: string[]]> = [
    ['the whole secret URL', `POST ${HOOK} failed`, [HOOK]],
    ['its path and query as a proxy logs them', 'POST /services/T0ABCDEFG/B0HIJKLMN/q8Vx2LmN4pRt6WyZ1aBc3DeF?token=qT0k%2Bn3n_9w&v=1 HTTP/1.1', ['q8Vx2LmN4pRt6WyZ1aBc3DeF', 'qT0k']],
    ['a long path segment alone', 'invalid_token q8Vx2LmN4pRt6WyZ1aBc3DeF', ['q8Vx2LmN4pRt6WyZ1aBc3DeF']],
    ['a query value as written (encoded)', 'token=qT0k%2Bn3n_9w rejected', ['qT0k%2Bn3n_9w']],
    ['a query value decoded', 'unknown token "qT0k+n3n_9w"', ['qT0k+n3n_9w']],
    ['the URL encoded into another URL', `/login?next=${encodeURIComponent(HOOK)}`, [encodeURIComponent(HOOK), 'q8Vx2LmN4pRt6WyZ1aBc3DeF']],
    ['the URL JSON-escaped with \\/', JSON.stringify({ url: HOOK }).replace(/\//g, '\\/'), ['q8Vx2LmN4pRt6WyZ1aBc3DeF', 'qT0k']],
    ['basic auth as sent', `authorization: Basic ${b64(`alertmux:${PASSWORD}`)}`, [b64(`alertmux:${PASSWORD}`)]],
    ['basic auth as user:password', `alertmux:${PASSWORD}@host`, [PASSWORD]],
    ['the password URL-encoded', `password=${encodeURIComponent(PASSWORD)}`, [encodeURIComponent(PASSWORD), PASSWORD]],
    ['the password form-encoded', `password=${new URLSearchParams({ p: PASSWORD }).toString().slice(2)}`, ['p%40ss%2Fw%2Brd%3DQ7x']],
    ['a bearer token', `authorization: Bearer ${TOKEN}`, [TOKEN]],
    ['header values', 'x-api-key: key-Hd73kQ9\nx-other: val-Pq02nB5', ['key-Hd73kQ9', 'val-Pq02nB5']],
    ['the signing secret with and without whsec_', 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw', ['MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw']],
  ];
  for (const [what, text, gone] of rows) {
    it(`redacts ${what}`, () => {
      const out = redact(text);
      for (const g of gone) expect(out, out).not.to.contain(g);
      expect(out).to.contain('<secret>');
    });
  }

  it('leaves text without secrets alone: status codes, short paths, the usernames', () => {
    const text = 'unexpected status code 500: POST /v1/alerts by alertmux (v=1)';
    expect(redact(text)).to.equal(text);
    expect(createRedactor([])('anything')).to.equal('anything');
  });

  it('replaces the longest form first, so a URL leaves no tail of itself', () => {
    expect(redact(`<${HOOK}>`)).to.equal('<<secret>>');
  });

  it('derives basic auth forms only when there is a password, and URL forms only from a URL', () => {
    expect(secretForms('basic', { username: 'u' })).to.deep.equal([]);
    expect(secretForms('url', 'not a url')).to.deep.equal(['not a url']);
    const shapes: SecretShape[] = ['value', 'bearer', 'basic', 'url', 'signing'];
    for (const shape of shapes) expect(secretForms(shape, undefined)).to.deep.equal([]);
  });

  // The 300-character cut of an error excerpt happens after redaction: a secret across it leaks nothing, not its start.
  for (const offset of [260, 285, 295, 299, 300]) {
    it(`leaves no start of a secret that crosses the cut of an error excerpt (secret at ${offset})`, async () => {
      const deps = mockDeps();
      const secret = 'Zq9SECRETcrossesTheCut7Xw';
      const body = `${'x'.repeat(offset)}${secret}${'y'.repeat(100)}`;
      deps.agent.get('https://cut.example').intercept({ path: '/hook', method: 'POST' }).reply(500, body);
      const outcome = await deliver({ ...deps, redact: createRedactor([secret]) }, { url: 'https://cut.example/hook', body: {} }, AbortSignal.timeout(5000));
      expect(outcome.ok).to.equal(false);
      const message = outcome.ok ? '' : outcome.message;
      expect(message).not.to.contain(secret.slice(0, 4));
      expect(message.length).to.be.at.most('unexpected status code 500: '.length + 300);
    });
  }

  it('cuts a message after redacting it, so even a cut does not split a secret (the publisher boundary)', async () => {
    const deps = mockDeps();
    const token = 'whtok_4Hq9Vz2LmN8pRt6Wy';
    const target = { name: 'w', type: 'webhook', enabled: true, match: [], send_resolved: true, url: `https://cut.example/hook?token=${token}`, format: 'alertmux', headers: {}, max_alerts: 0 } as unknown as TargetConfig;
    deps.agent.get('https://cut.example').intercept({ path: `/hook?token=${token}`, method: 'POST' }).reply(500, `${'x'.repeat(295)} GET /hook?token=${token}`);
    const outcome = await createPublisher(target, deps).publish(targetMessage(), ctx());
    expect(JSON.stringify(outcome)).not.to.contain(token.slice(0, 5));
    expect(truncate(targetRedactor(target)(`${'x'.repeat(10)}${token}`), 12)).to.equal('xxxxxxxxxx<…');
  });

  it('covers every field a target schema marks as secret', () => {
    for (const [type, schema] of Object.entries(targetSchemas)) {
      const declared = new Set((targetSecretFields[type] ?? []).map((f) => f.path));
      for (const path of markedSecret(schema)) expect(declared, `${type}: ${path}`).to.include(path);
    }
  });
});

/** Paths of the fields marked `x-secret` in a schema: `a`, `a.*` for a map of secrets; a secret inside an object names the object. */
function markedSecret(schema: object): string[] {
  const props = (schema as { properties?: Record<string, Record<string, unknown>> }).properties ?? {};
  return Object.entries(props).flatMap(([key, prop]) => {
    if (prop['x-secret']) return [key];
    if ((prop['additionalProperties'] as Record<string, unknown> | undefined)?.['x-secret']) return [`${key}.*`];
    const inner = (prop['properties'] ?? {}) as Record<string, Record<string, unknown>>;
    return Object.values(inner).some((p) => p['x-secret']) ? [key] : [];
  });
}

const base = { enabled: true, match: ['severity="critical"'], send_resolved: true };

describe('redactTarget', () => {
  it('hides every secret field of a webhook target, its URL and its header values', () => {
    const target = {
      ...base,
      name: 'audit',
      type: 'webhook',
      url: 'https://hooks.example.com/T000/B000/XXXX',
      format: 'alertmux',
      headers: { 'X-Api-Key': 'k-123', 'X-Tenant': 'acme' },
      bearer_token: 'tok-abc',
      basic_auth: { username: 'am', password: 'pw-123' },
      signing_secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
      max_alerts: 0,
    } as TargetConfig;
    const shown = redactTarget(target);
    expect(shown).to.deep.equal({
      ...base,
      name: 'audit',
      type: 'webhook',
      url: '<secret>',
      format: 'alertmux',
      headers: { 'X-Api-Key': '<secret>', 'X-Tenant': '<secret>' },
      bearer_token: '<secret>',
      basic_auth: { username: 'am', password: '<secret>' },
      signing_secret: '<secret>',
      max_alerts: 0,
    });
    const text = JSON.stringify(shown);
    for (const secret of ['hooks.example.com', 'k-123', 'acme', 'tok-abc', 'pw-123', 'MfKQ9r8']) expect(text).to.not.include(secret);
  });

  it('hides routing keys, webhook URLs and tokens of vendor targets', () => {
    const pd = redactTarget({ ...base, name: 'pd', type: 'pagerduty', routing_key: 'R0UT1NG', url: 'https://events.pagerduty.com/v2/enqueue' } as unknown as TargetConfig);
    expect(pd['routing_key']).to.equal('<secret>');
    // A vendor API URL is not a secret for types whose URL carries no credential.
    expect(pd['url']).to.equal('https://events.pagerduty.com/v2/enqueue');
    const slack = redactTarget({ ...base, name: 's', type: 'slack', webhook_url: 'https://hooks.slack.com/services/T/B/X' } as unknown as TargetConfig);
    expect(slack['webhook_url']).to.equal('<secret>');
    const bot = redactTarget({ ...base, name: 's', type: 'slack', token: 'xoxb-1', channel: 'C1', api_url: 'https://slack.com/api' } as unknown as TargetConfig);
    expect(bot).to.include({ token: '<secret>', channel: 'C1', api_url: 'https://slack.com/api' });
  });

  for (const type of ['teams', 'discord']) {
    it(`treats the webhook_url of a ${type} target as a secret but keeps its health check URL`, () => {
      const target = { ...base, name: 'x', type, webhook_url: 'https://secret.example/abc', health_check: { url: 'https://status.example/health' } };
      const shown = redactTarget(target as unknown as TargetConfig);
      expect(shown['webhook_url']).to.equal('<secret>');
      expect(shown['health_check']).to.deep.equal({ url: 'https://status.example/health' });
    });
  }

  it('redacts a secret that another field repeats (a health check URL with the token in it)', () => {
    const url = 'https://hooks.example.com/alerts?token=tok-9d8f7e6c5b';
    const target = { ...base, name: 'x', type: 'webhook', url, format: 'alertmux', headers: {}, max_alerts: 0, health_check: { url: 'https://hooks.example.com/health?token=tok-9d8f7e6c5b' } };
    const shown = redactTarget(target as unknown as TargetConfig);
    expect(JSON.stringify(shown)).not.to.contain('tok-9d8f7e6c5b');
    expect((shown['health_check'] as { url: string }).url).to.match(/^https:\/\/hooks\.example\.com\/health\?.*<secret>/);
  });

  it('keeps the url of a rootly target, whose secret is its token', () => {
    const target = { ...base, name: 'r', type: 'rootly', url: 'https://api.rootly.com/v1/alerts', token: 'rootly-tok' };
    const shown = redactTarget(target as unknown as TargetConfig);
    expect(shown['url']).to.equal('https://api.rootly.com/v1/alerts');
    expect(shown['token']).to.equal('<secret>');
  });

  it('keeps the fields of a target without secrets unchanged and leaves the input alone', () => {
    const target = { ...base, name: 'jsonl', type: 'file', path: '/var/lib/alertmux/out.jsonl', format: 'alertmux' } as TargetConfig;
    const copy = structuredClone(target);
    expect(redactTarget(target)).to.deep.equal(copy);
    expect(target).to.deep.equal(copy);
  });
});
