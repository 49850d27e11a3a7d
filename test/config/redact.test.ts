import { expect } from 'chai';
import { redactTarget } from '../../src/config/redact.js';
import type { TargetConfig } from '../../src/publishers/registry.js';

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
    const target = {
      ...base,
      name: 'pd',
      type: 'pagerduty',
      routing_key: 'R0UT1NG',
      url: 'https://events.pagerduty.com/v2/enqueue',
      slack: { webhook_url: 'https://hooks.slack.com/services/T/B/X', token: 'xoxb-1' },
    } as unknown as TargetConfig;
    const shown = redactTarget(target);
    expect(shown['routing_key']).to.equal('<secret>');
    expect(shown['slack']).to.deep.equal({ webhook_url: '<secret>', token: '<secret>' });
    // A vendor API URL is not a secret for types whose URL carries no credential.
    expect(shown['url']).to.equal('https://events.pagerduty.com/v2/enqueue');
  });

  for (const type of ['webhook', 'teams', 'discord']) {
    it(`treats the url of a ${type} target as a secret but keeps its health check URL`, () => {
      const target = { ...base, name: 'x', type, url: 'https://secret.example/abc', health_check: { url: 'https://status.example/health' } };
      const shown = redactTarget(target as unknown as TargetConfig);
      expect(shown['url']).to.equal('<secret>');
      expect(shown['health_check']).to.deep.equal({ url: 'https://status.example/health' });
    });
  }

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
