import Handlebars from 'handlebars';
import type { Alert, WebhookMessage } from '../alerts/types.js';
import type { ReportProblem } from '../config/target.js';

/** Optional per-target templates (Handlebars) for the title and the text of chat messages. */
export interface MessageTemplateConfig {
  title?: string;
  text?: string;
}

/** What chat targets render: a title line and a body text. */
export interface RenderedMessage {
  title: string;
  text: string;
  /** The text is the target's own template's (Slack sends it as mrkdwn as is), not the default. */
  customText?: boolean;
}

/** The view templates see: the group plus counts, severity and links. */
export interface TemplateView extends WebhookMessage {
  firing: Alert[];
  resolved: Alert[];
  numFiring: number;
  numResolved: number;
  severity: string;
  /** alertname and the most telling common labels, e.g. `HighErrorRate api`. */
  name: string;
}

const engine = Handlebars.create();
engine.registerHelper('join', (values: unknown, sep: unknown) => (Array.isArray(values) ? values.join(typeof sep === 'string' ? sep : ', ') : ''));
engine.registerHelper('upper', (value: unknown) => String(value ?? '').toUpperCase());

/** Schema of the `template` field chat targets accept. */
export const templateSchema = {
  type: 'object',
  additionalProperties: false,
  description: 'Handlebars templates for the message; the view has the group (status, alerts, commonLabels, ...) plus firing, resolved, numFiring, numResolved, severity and name.',
  properties: {
    title: { type: 'string', description: 'Title template, e.g. `[{{upper status}}:{{numFiring}}] {{name}}`.' },
    text: { type: 'string', description: 'Body template.' },
  },
} as const;

/** The view of a group for templates and default messages. */
export function templateView(msg: WebhookMessage): TemplateView {
  const firing = msg.alerts.filter((a) => a.status === 'firing');
  const resolved = msg.alerts.filter((a) => a.status === 'resolved');
  const severity = msg.commonLabels['severity'] ?? (firing[0] ?? msg.alerts[0])?.labels['severity'] ?? 'unknown';
  const alertname = msg.commonLabels['alertname'] ?? msg.groupLabels['alertname'] ?? msg.alerts[0]?.labels['alertname'] ?? 'alert';
  const extra = ['service', 'job', 'namespace'].map((l) => msg.commonLabels[l]).find((v) => v !== undefined);
  return { ...msg, firing, resolved, numFiring: firing.length, numResolved: resolved.length, severity, name: extra ? `${alertname} ${extra}` : alertname };
}

/** Alertmanager's default title: `[FIRING:2] HighErrorRate api (critical)`, `[RESOLVED] ...`. */
export function defaultTitle(view: TemplateView): string {
  const state = view.status === 'firing' ? `FIRING:${view.numFiring}` : 'RESOLVED';
  return `[${state}] ${view.name}${view.severity !== 'unknown' ? ` (${view.severity})` : ''}`;
}

/** One block of text per alert: summary, description, and the labels that are not common to all. */
export function defaultText(view: TemplateView): string {
  return view.alerts
    .map((a) => {
      const lines = [`${a.status === 'firing' ? '🔥' : '✅'} ${a.annotations['summary'] ?? a.labels['alertname'] ?? 'alert'}`];
      if (a.annotations['description']) lines.push(a.annotations['description']);
      const own = Object.entries(a.labels).filter(([k, v]) => view.commonLabels[k] !== v);
      if (own.length) lines.push(own.map(([k, v]) => `${k}=${v}`).join(' '));
      return lines.join('\n');
    })
    .join('\n\n');
}

/** Compile one template (no HTML escaping: the targets send JSON, not HTML). Throws on a syntax error, at config load. */
export function compileTemplate(source: string): (view: TemplateView) => string {
  const render = engine.compile(source, { noEscape: true });
  render({}); // surface syntax errors now
  return render;
}

/**
 * Compile each `[path, source]` template of a target at config load, reporting each that does not compile with
 * the first and last lines of Handlebars' message ("Parse error on line 1:" ... "Expecting ..."; the source
 * line and caret between them are left out).
 */
export function checkTemplates(templates: Iterable<readonly [path: string, source: unknown]>, report: ReportProblem): void {
  for (const [path, source] of templates) {
    if (typeof source !== 'string') continue; // absent, or a shape the schema reports
    try {
      compileTemplate(source);
    } catch (err) {
      const lines = (err as Error).message.split('\n');
      report(path, [...new Set([lines[0], lines.at(-1)])].join(' '));
    }
  }
}

/** The `compileTemplates` hook of the chat kinds: the parts of their `template`. */
export function checkMessageTemplates(target: { template?: MessageTemplateConfig }, report: ReportProblem): void {
  const parts = target.template && typeof target.template === 'object' ? Object.entries(target.template) : [];
  checkTemplates(parts.map(([part, source]) => [`template/${part}`, source] as const), report);
}

/** `render`, except that a throw while rendering gives `undefined`, reported to `onError`, instead of failing the message. */
export function tolerant(render: (view: TemplateView) => string, onError: (err: unknown) => void): (view: TemplateView) => string | undefined {
  return (view) => {
    try {
      return render(view);
    } catch (err) {
      onError(err);
      return undefined;
    }
  };
}

/**
 * Compile a target's templates once (at config load); missing parts fall back to the defaults. Throws on a syntax
 * error. A part that throws while rendering (a helper given what it cannot take, in a branch the check at load did
 * not run) falls back to its default too, reported through `onError`: the message is sent either way.
 */
export function compileMessage(
  config: MessageTemplateConfig | undefined,
  onError: (part: 'title' | 'text', err: unknown) => void = () => undefined,
): (msg: WebhookMessage) => RenderedMessage {
  const compile = (part: 'title' | 'text') => {
    const source = config?.[part];
    return source === undefined ? undefined : tolerant(compileTemplate(source), (err) => onError(part, err));
  };
  const title = compile('title');
  const text = compile('text');
  return (msg) => {
    const view = templateView(msg);
    const customTitle = title?.(view);
    const customText = text?.(view);
    return {
      title: (customTitle ?? defaultTitle(view)).trim(),
      text: (customText ?? defaultText(view)).trim(),
      customText: customText !== undefined,
    };
  };
}

/** Links worth showing for a group, de-duplicated: runbook, dashboard, silence, source. */
export function groupLinks(msg: WebhookMessage): Array<{ text: string; href: string }> {
  const links = new Map<string, string>();
  for (const a of msg.alerts) {
    for (const [key, text] of [['runbook_url', 'Runbook'], ['dashboard_url', 'Dashboard'], ['silence_url', 'Silence']] as const) {
      const href = a.annotations[key];
      if (href && /^https?:\/\//.test(href) && !links.has(href)) links.set(href, text);
    }
    if (a.generatorURL && /^https?:\/\//.test(a.generatorURL) && !links.has(a.generatorURL)) links.set(a.generatorURL, 'Source');
  }
  return [...links].map(([href, text]) => ({ text, href })).slice(0, 10);
}
