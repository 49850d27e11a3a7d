import { expect } from 'chai';
import { compileLinks, createEnricher, silenceURL, type EnrichConfig } from '../../src/alerts/enrich.js';
import { labelsFingerprint } from '../../src/alerts/fingerprint.js';
import { alert, fixture, webhookMessage } from '../helpers/fixtures.js';
import type { WebhookMessage } from '../../src/alerts/types.js';

const none: EnrichConfig = { labels: {}, severity_map: {}, links: {}, silence_link: false };

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/** A message with the given alerts (common labels as Alertmanager would compute them are irrelevant here). */
function message(alerts: WebhookMessage['alerts'], overrides: Partial<WebhookMessage> = {}): WebhookMessage {
  return webhookMessage({ alerts, externalURL: 'http://alertmanager.example:9093', ...overrides });
}

describe('enrichment', () => {
  describe('static labels', () => {
    it('adds a label only to alerts that do not have it', () => {
      const enrich = createEnricher({ ...none, labels: { cluster: 'prod-eu-1', team: 'sre' } });
      const out = enrich(message([alert({ alertname: 'A' }), alert({ alertname: 'B', cluster: 'staging' })]));
      expect(out.alerts[0]!.labels).to.deep.equal({ alertname: 'A', cluster: 'prod-eu-1', team: 'sre' });
      expect(out.alerts[1]!.labels).to.deep.equal({ alertname: 'B', cluster: 'staging', team: 'sre' });
    });

    it('keeps an existing empty label as it is', () => {
      const out = createEnricher({ ...none, labels: { team: 'sre' } })(message([alert({ alertname: 'A', team: '' })]));
      expect(out.alerts[0]!.labels['team']).to.equal('');
    });
  });

  describe('severity map', () => {
    const enrich = createEnricher({ ...none, severity_map: { P1: 'critical', p2: 'warning' } });

    it('maps severities case-insensitively', () => {
      const out = enrich(message([alert({ severity: 'P1' }), alert({ severity: 'p1' }), alert({ severity: 'P2' })]));
      expect(out.alerts.map((a) => a.labels['severity'])).to.deep.equal(['critical', 'critical', 'warning']);
    });

    it('leaves unmapped severities and alerts without one alone', () => {
      const out = enrich(message([alert({ severity: 'info' }), alert({ alertname: 'NoSeverity' })]));
      expect(out.alerts[0]!.labels['severity']).to.equal('info');
      expect(out.alerts[1]!.labels).to.not.have.property('severity');
    });

    it('also maps a severity that a static label added', () => {
      const out = createEnricher({ ...none, labels: { severity: 'P2' }, severity_map: { P2: 'warning' } })(message([alert({ alertname: 'A' })]));
      expect(out.alerts[0]!.labels['severity']).to.equal('warning');
    });
  });

  describe('link templates', () => {
    const links = {
      runbook_url: 'https://runbooks.example.com/{{labels.alertname}}',
      dashboard_url: 'https://grafana.example.com/d/node?var-instance={{urlquery labels.instance}}&from={{urlquery annotations.from}}',
      am_url: '{{externalURL}}/#/alerts',
      empty: '{{labels.absent}}',
    };
    const enrich = createEnricher({ ...none, links });

    it('renders each template into an annotation of the same name', () => {
      const out = enrich(message([alert({ alertname: 'DiskFull', instance: 'db-1:9100' }, { annotations: { from: 'now-1h' } })]));
      expect(out.alerts[0]!.annotations).to.deep.equal({
        from: 'now-1h',
        runbook_url: 'https://runbooks.example.com/DiskFull',
        dashboard_url: 'https://grafana.example.com/d/node?var-instance=db-1%3A9100&from=now-1h',
        am_url: 'http://alertmanager.example:9093/#/alerts',
      });
    });

    it('escapes query values with urlquery and nothing else (no HTML escaping)', () => {
      const out = createEnricher({ ...none, links: { q: 'https://x/?a={{urlquery labels.v}}&b={{labels.v}}' } })(message([alert({ v: 'a&b "c"/d' })]));
      expect(out.alerts[0]!.annotations['q']).to.equal('https://x/?a=a%26b%20%22c%22%2Fd&b=a&b "c"/d');
    });

    it('never throws on a lone surrogate: urlquery encodes it as U+FFFD', () => {
      const out = createEnricher({ ...none, links: { q: 'https://x/?a={{urlquery labels.alertname}}' } })(message([alert({ alertname: 'A\ud800' })]));
      expect(out.alerts[0]!.annotations['q']).to.equal('https://x/?a=A%EF%BF%BD');
      expect(silenceURL('http://am', { alertname: '\udc00' })).to.equal(`http://am/#/silences/new?filter=${encodeURIComponent('{alertname="\ufffd"}')}`);
    });

    it('fills an annotation named like an Object.prototype member (a link named constructor)', () => {
      const out = createEnricher({ ...none, links: { constructor: 'https://x/{{labels.alertname}}' } })(message([alert({ alertname: 'A' })]));
      expect(Object.hasOwn(out.alerts[0]!.annotations, 'constructor')).to.equal(true);
      expect(out.alerts[0]!.annotations['constructor']).to.equal('https://x/A');
    });

    it('never overrides an annotation the alert already has, but fills an empty one', () => {
      const out = enrich(
        message([alert({ alertname: 'DiskFull' }, { annotations: { runbook_url: 'https://wiki/own', am_url: '' } })]),
      );
      expect(out.alerts[0]!.annotations['runbook_url']).to.equal('https://wiki/own');
      expect(out.alerts[0]!.annotations['am_url']).to.equal('http://alertmanager.example:9093/#/alerts');
    });

    it('adds no annotation when a template renders to nothing', () => {
      const out = enrich(message([alert({ alertname: 'A' })]));
      expect(out.alerts[0]!.annotations).to.not.have.property('empty');
    });

    it('sees the enriched labels (static labels, mapped severity)', () => {
      const out = createEnricher({
        labels: { cluster: 'prod' },
        severity_map: { P1: 'critical' },
        links: { u: 'https://x/{{labels.cluster}}/{{labels.severity}}' },
        silence_link: false,
      })(message([alert({ severity: 'P1' })]));
      expect(out.alerts[0]!.annotations['u']).to.equal('https://x/prod/critical');
    });

    it('refuses a template that does not compile when the config is loaded', () => {
      expect(() => compileLinks({ bad: 'https://x/{{labels.alertname' })).to.throw(/Parse error/);
      expect(() => compileLinks({ bad: '{{nohelper labels.x}}' })).to.throw(/Missing helper/);
      expect(compileLinks(links).map(([name]) => name)).to.deep.equal(Object.keys(links));
    });
  });

  describe('silence link', () => {
    it('points at Alertmanager\'s new-silence page with the alert\'s labels, sorted and quoted', () => {
      const url = silenceURL('http://am.example:9093/', { job: 'node', alertname: 'DiskFull', path: 'C:\\ "x"' });
      const prefix = 'http://am.example:9093/#/silences/new?filter=';
      expect(url.startsWith(prefix)).to.equal(true);
      expect(decodeURIComponent(url.slice(prefix.length))).to.equal('{alertname="DiskFull",job="node",path="C:\\\\ \\"x\\""}');
    });

    it('is added from externalURL with the labels Alertmanager knows, not alertmux\'s static or mapped ones', () => {
      const enrich = createEnricher({ labels: { cluster: 'prod' }, severity_map: { P1: 'critical' }, links: {}, silence_link: true });
      const out = enrich(message([alert({ alertname: 'A', severity: 'P1' })]));
      expect(out.alerts[0]!.annotations['silence_url']).to.equal(silenceURL('http://alertmanager.example:9093', { alertname: 'A', severity: 'P1' }));
    });

    it('is not added without externalURL, when disabled, or over an existing one', () => {
      const on = createEnricher({ ...none, silence_link: true });
      expect(on(message([alert({ a: 'b' })], { externalURL: '' })).alerts[0]!.annotations).to.not.have.property('silence_url');
      expect(createEnricher(none)(message([alert({ a: 'b' })])).alerts[0]!.annotations).to.not.have.property('silence_url');
      const own = on(message([alert({ a: 'b' }, { annotations: { silence_url: 'https://own' } })]));
      expect(own.alerts[0]!.annotations['silence_url']).to.equal('https://own');
    });
  });

  describe('fingerprints', () => {
    it('fills a missing fingerprint with the one Alertmanager would have sent', () => {
      const original = fixture('am025-grouped-firing.json');
      const stripped = { ...original, alerts: original.alerts.map((a) => ({ ...a, fingerprint: '' })) };
      const out = createEnricher(none)(stripped);
      expect(out.alerts.map((a) => a.fingerprint)).to.deep.equal(original.alerts.map((a) => a.fingerprint));
    });

    it('keeps a fingerprint that is present, and computes it from the labels Alertmanager sent', () => {
      const enrich = createEnricher({ ...none, labels: { cluster: 'prod' } });
      const out = enrich(message([alert({ a: '1' }, { fingerprint: 'given' }), alert({ a: '2' })]));
      expect(out.alerts[0]!.fingerprint).to.equal('given');
      expect(out.alerts[1]!.fingerprint).to.equal(labelsFingerprint({ a: '2' }));
    });
  });

  describe('purity', () => {
    const full: EnrichConfig = {
      labels: { cluster: 'prod', severity: 'P3' },
      severity_map: { critical: 'P1', P3: 'info' },
      links: { runbook_url: 'https://r/{{labels.alertname}}' },
      silence_link: true,
    };

    it('never mutates its input, even deeply', () => {
      for (const name of ['am025-grouped-firing.json', 'am025-mixed-firing-resolved.json', 'am025-all-resolved.json']) {
        const input = deepFreeze(fixture(name));
        const before = structuredClone(input);
        const out = createEnricher(full)(input);
        expect(input, name).to.deep.equal(before);
        expect(out, name).to.not.deep.equal(before);
      }
    });

    it('gives the same output for the same input', () => {
      const enrich = createEnricher(full);
      expect(enrich(fixture('am025-grouped-firing.json'))).to.deep.equal(enrich(fixture('am025-grouped-firing.json')));
    });

    it('recomputes common labels and annotations after enrichment', () => {
      const input = message(
        [alert({ alertname: 'A', job: 'node', severity: 'critical' }), alert({ alertname: 'B', job: 'node', severity: 'critical' })],
        { commonLabels: { stale: 'x' }, commonAnnotations: { stale: 'y' } },
      );
      const out = createEnricher({ ...full, silence_link: false, links: { team_url: 'https://teams/{{labels.job}}' } })(input);
      expect(out.commonLabels).to.deep.equal({ job: 'node', severity: 'P1', cluster: 'prod' });
      expect(out.commonAnnotations).to.deep.equal({ team_url: 'https://teams/node' });
      expect([out.receiver, out.groupKey, out.groupLabels, out.status]).to.deep.equal([input.receiver, input.groupKey, input.groupLabels, 'firing']);
    });

    it('leaves a message alone when nothing is configured, apart from filling fingerprints', () => {
      const input = fixture('am025-mixed-firing-resolved.json');
      expect(createEnricher(none)(input)).to.deep.equal(input);
    });
  });
});
