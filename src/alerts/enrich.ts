import Handlebars from 'handlebars';
import { labelsFingerprint } from './fingerprint.js';
import { withAlerts } from './common.js';
import type { Alert, WebhookMessage } from './types.js';

/** The `enrich` section of the config. */
export interface EnrichConfig {
  /** Added to every alert unless the alert already has the label. */
  labels: Record<string, string>;
  /** Maps a severity value (matched case-insensitively) to a normalised one. */
  severity_map: Record<string, string>;
  /** Annotation name → Handlebars template over the alert (`{{labels.x}}`, `{{annotations.x}}`, `{{externalURL}}`). */
  links: Record<string, string>;
  /** Add a `silence_url` annotation pointing at Alertmanager's "new silence" page. */
  silence_link: boolean;
}

/** A compiled enricher: a pure function from message to a new message. */
export type Enricher = (msg: WebhookMessage) => WebhookMessage;

const templates = Handlebars.create();
templates.registerHelper('urlquery', (value: unknown) => encodeURIComponentWellFormed(String(value ?? '')));

// In a `u` regex a valid surrogate pair is one code point: only lone halves match.
const LONE_SURROGATE = /[\uD800-\uDFFF]/gu;

/** encodeURIComponent that never throws: a lone surrogate (URIError there) is encoded as U+FFFD, as Go's decoder reads it. */
export function encodeURIComponentWellFormed(text: string): string {
  return encodeURIComponent(text.replace(LONE_SURROGATE, '\uFFFD'));
}

/** Compile the link templates once (per config), never per request. Throws on a bad template. */
export function compileLinks(links: Record<string, string>): Array<[string, HandlebarsTemplateDelegate]> {
  return Object.entries(links).map(([name, source]) => {
    const render = templates.compile(source, { noEscape: true, strict: false });
    render({}); // surface syntax errors at load time, not on the first alert
    return [name, render];
  });
}

/** Build the enricher for one config. The input message is never mutated. */
export function createEnricher(config: EnrichConfig): Enricher {
  const links = compileLinks(config.links);
  const severities = new Map(Object.entries(config.severity_map).map(([k, v]) => [k.toLowerCase(), v]));
  const staticLabels = Object.entries(config.labels);

  return (msg) => {
    const alerts = msg.alerts.map((alert): Alert => {
      const labels = { ...alert.labels };
      for (const [name, value] of staticLabels) if (!Object.hasOwn(labels, name)) labels[name] = value;
      const severity = labels['severity'];
      const mapped = severity === undefined ? undefined : severities.get(severity.toLowerCase());
      if (mapped !== undefined) labels['severity'] = mapped;

      const annotations = { ...alert.annotations };
      const view = { ...alert, labels, annotations: alert.annotations, externalURL: msg.externalURL, groupKey: msg.groupKey };
      for (const [name, render] of links) {
        if (!Object.hasOwn(annotations, name) || annotations[name] === '') {
          const url = render(view).trim();
          if (url) annotations[name] = url;
        }
      }
      if (config.silence_link && msg.externalURL && !annotations['silence_url']) {
        annotations['silence_url'] = silenceURL(msg.externalURL, alert.labels);
      }
      return { ...alert, labels, annotations, fingerprint: alert.fingerprint || labelsFingerprint(alert.labels) };
    });
    return withAlerts(msg, alerts);
  };
}

/** Alertmanager UI's "new silence" page, pre-filled with the alert's labels. */
export function silenceURL(externalURL: string, labels: Record<string, string>): string {
  const matchers = Object.keys(labels)
    .sort()
    .map((name) => `${name}="${(labels[name] ?? '').replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`)
    .join(',');
  return `${externalURL.replace(/\/+$/, '')}/#/silences/new?filter=${encodeURIComponentWellFormed(`{${matchers}}`)}`;
}
