import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { expect } from 'chai';
import { Agent, request } from 'undici';
import { FIXTURES } from '../helpers/fixtures.js';
import { seededRandom } from '../helpers/random.js';
import { loopbackTarget, startApp, type LoopbackTarget, type TestApp } from '../helpers/servers.js';

// Change the seed to explore; a failure names its seed and case number, so it reproduces exactly.
const SEED = Number(process.env['FUZZ_SEED'] ?? 20_261_206);
const CASES = 2_000;
const SHARED = '/work/shared/fixtures/alertmanager';

/** Every captured real payload: the test fixtures, and the shared captures (their `body`) where present. */
function seeds(): unknown[] {
  const read = (dir: string) =>
    existsSync(dir)
      ? readdirSync(dir)
          .filter((f) => f.endsWith('.json'))
          .map((f) => JSON.parse(readFileSync(join(dir, f), 'utf8')) as Record<string, unknown>)
          .map((j) => ('capturedFrom' in j ? j['body'] : j))
      : [];
  return [...read(FIXTURES), ...read(SHARED)];
}

const PROTO = ['constructor', 'Constructor', '__proto__', 'prototype', 'toString', 'hasOwnProperty', 'valueOf', '__defineGetter__'];
const ODD_STRINGS = [
  '\ud800',
  'a\udc00b',
  '\udbff\udbff',
  'x\u0000y',
  '\u0000',
  '',
  ' ',
  'é🔥',
  '"}\\',
  '{{alertname}}',
  '{{#each labels}}x{{/each}}',
  '%zz',
  '0001-01-01T00:00:00Z',
  'not a time',
  'firing',
  'resolved',
  '4',
  'service.name',
  'a'.repeat(5000),
  ...PROTO,
];

/** A mutator of payloads, driven by one seeded sequence. */
function mutator(random: () => number) {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const nested = (depth: number): unknown => {
    let v: unknown = 'deep';
    for (let i = 0; i < depth; i++) v = random() < 0.5 ? [v] : { k: v };
    return v;
  };
  // Half of the odd values are strings (the payload's type), so many mutated payloads pass validation.
  const oddValue = (): unknown => {
    if (random() < 0.5) return pick(ODD_STRINGS);
    return pick<() => unknown>([
      () => pick([0, -1, 1.5, 1e308, -0, 2 ** 53 + 1]),
      () => pick([null, true, false]),
      () => [],
      () => ({}),
      () => [pick(ODD_STRINGS), 1, null],
      () => Object.fromEntries([[pick(PROTO), pick(ODD_STRINGS)]]),
      () => nested(pick([3, 50, 99, 150])),
    ])();
  };
  /** Every container in `value` with its keys, so a mutation can land anywhere. */
  const containers = (value: unknown, out: Array<Record<string, unknown> | unknown[]> = []) => {
    if (Array.isArray(value)) {
      out.push(value);
      for (const v of value) containers(v, out);
    } else if (value !== null && typeof value === 'object') {
      out.push(value as Record<string, unknown>);
      for (const v of Object.values(value)) containers(v, out);
    }
    return out;
  };
  const set = (obj: Record<string, unknown>, key: string, value: unknown) =>
    Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });

  /** One structural mutation, in place. */
  const mutate = (body: unknown): void => {
    const spots = containers(body);
    if (!spots.length) return;
    const spot = pick(spots);
    if (Array.isArray(spot)) {
      const op = random();
      if (op < 0.3 && spot.length) spot.splice(Math.floor(random() * spot.length), 1);
      else if (op < 0.6 && spot.length) spot.push(JSON.parse(JSON.stringify(pick(spot))) as unknown);
      else if (spot.length) spot[Math.floor(random() * spot.length)] = oddValue();
      else spot.push(oddValue());
      return;
    }
    const keys = Object.keys(spot);
    const op = random();
    if (op < 0.45 && keys.length) set(spot, pick(keys), oddValue());
    else if (op < 0.6 && keys.length) delete spot[pick(keys)];
    else if (op < 0.8) set(spot, pick([...PROTO, '\ud800', 'a\udfff', 'x\u0000', 'service.name', 'severity', 'alertname']), pick(ODD_STRINGS));
    else if (keys.length) {
      // A known key's string value turned into an odd string (a label value, a status, a time).
      const key = pick(keys);
      set(spot, key, typeof spot[key] === 'string' ? pick(ODD_STRINGS) : oddValue());
    }
  };

  /** A mutated copy of `seed` as the bytes to post. */
  return (seed: unknown): Buffer => {
    let body: unknown = JSON.parse(JSON.stringify(seed));
    if (random() < 0.03) body = oddValue();
    const times = 1 + Math.floor(random() * 4);
    for (let i = 0; i < times; i++) mutate(body);
    let text = JSON.stringify(body);
    const op = random();
    // Mutations of the text itself: cut short, a stray byte, raw invalid UTF-8, a lone surrogate escape written by hand.
    if (op < 0.05) return Buffer.from(text.slice(0, Math.floor(random() * text.length)));
    if (op < 0.08) {
      const at = Math.floor(random() * text.length);
      text = text.slice(0, at) + pick(['{', ']', '"', '\\', ',', '\u0000']) + text.slice(at);
    }
    if (op >= 0.08 && op < 0.12) return Buffer.concat([Buffer.from(text.slice(0, text.length - 2)), Buffer.from([0xff, 0xc3, 0x28]), Buffer.from(text.slice(-2))]);
    if (op >= 0.12 && op < 0.2) text = text.replace(/"(alertname|severity|instance)":"/, `"$1":"\\ud800\\u0000`);
    // An extra field nested 6,000 deep (built as text: JSON.stringify itself overflows the stack on it).
    if (op >= 0.2 && op < 0.23) text = text.replace(/^\{/, `{"extra":${'['.repeat(6000)}1${']'.repeat(6000)},`);
    return Buffer.from(text);
  };
}

describe('webhook fuzz: mutated real payloads never get a 5xx', function () {
  this.timeout(60_000);
  let target: LoopbackTarget;
  let app: TestApp;
  before(async () => {
    target = await loopbackTarget(({ path }) => (path.startsWith('/slack') ? { status: 200, body: 'ok' } : { status: 200 }));
    app = await startApp(`storage: {path: ":memory:"}
dispatch: {response_deadline: 2s, timeout: 1s}
limits: {max_body_bytes: 262144}
dedup: {window: 1ms}
enrich:
  labels: {cluster: fuzz}
  severity_map: {P1: critical, constructor: warning}
  silence_link: true
  links:
    runbook_url: "https://runbooks.example/{{urlquery labels.alertname}}?s={{urlquery labels.severity}}"
    dashboard: "https://grafana.example/d?var={{labels.instance}}&{{labels.constructor}}"
targets:
  - {name: hook, type: webhook, url: "${target.url}/hook"}
  - {name: passthrough, type: webhook, url: "${target.url}/am", format: alertmanager, match: ['severity=~"crit.*|warning"']}
  - {name: slack, type: slack, webhook_url: "${target.url}/slack", send_resolved: true}
  - {name: pd, type: pagerduty, routing_key: "0123456789abcdef0123456789abcdef", url: "${target.url}/pd", match: ['severity="critical"']}
  - {name: teams, type: teams, webhook_url: "${target.url}/teams", match: ['constructor=""']}
  - {name: discord, type: discord, webhook_url: "${target.url}/discord", match: ['alertname!=""']}
  - {name: log, type: log, level: debug}
`);
  });
  after(async () => {
    await app.close();
    await target.close();
  });

  it(`answers ${CASES} mutated payloads (seed ${SEED}) with 2xx or 4xx and a reason, and records no storage error`, async () => {
    const random = seededRandom(SEED);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
    const mutated = mutator(random);
    const payloads = seeds();
    expect(payloads.length).to.be.greaterThan(10);
    const cases = Array.from({ length: CASES }, (_, i) => {
      const query = random() < 0.05 ? `?targets=${encodeURIComponent(random() < 0.5 ? '__proto__' : 'hook,constructor')}` : random() < 0.02 ? '?targets=%F0%28' : '';
      // Distinct groups: deliveries of one target and group key go one at a time, in order (their lane).
      const seed = { ...(payloads[i % payloads.length] as Record<string, unknown>) };
      seed['groupKey'] = `${String(seed['groupKey'])}#${i}`;
      // Mostly plain JSON; some compressed, in another UTF charset, or with a wrong or odd content type.
      const body = mutated(seed);
      const how = random();
      if (how < 0.04) return { i, query, body: gzipSync(body), headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' } };
      if (how < 0.07) {
        const utf16 = Buffer.from(body.toString('utf8'), 'utf16le');
        return { i, query, body: utf16, headers: { 'content-type': 'application/json; charset=utf-16le' } };
      }
      if (how < 0.09) return { i, query, body, headers: { 'content-type': pick(['text/plain', 'application/json; charset=latin1', 'application/vnd.x+json', '']) } };
      return { i, query, body, headers: { 'content-type': 'application/json' } };
    });
    const client = new Agent({ connections: 8 });
    const statuses = new Map<number, number>();
    const failures: string[] = [];
    let next = 0;
    const worker = async () => {
      while (next < cases.length) {
        const c = cases[next++]!;
        const res = await request(`${app.base}/webhook${c.query}`, { method: 'POST', dispatcher: client, headers: c.headers, body: c.body });
        const text = await res.body.text();

        statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
        if (res.statusCode >= 500) failures.push(`seed ${SEED} case ${c.i}: ${res.statusCode} ${text.slice(0, 200)}\n  body: ${c.body.toString('utf8').slice(0, 400)}`);
        else if (res.statusCode >= 400) expect((JSON.parse(text) as { error?: unknown }).error, `case ${c.i}`).to.be.a('string').with.length.greaterThan(0);
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    await client.close();
    expect(failures, failures.slice(0, 5).join('\n')).to.deep.equal([]);
    // The mutations reached past validation: many were accepted, many refused.
    const accepted = (statuses.get(200) ?? 0) + (statuses.get(202) ?? 0);
    expect(accepted, JSON.stringify([...statuses])).to.be.greaterThan(CASES / 5);
    expect(statuses.get(400) ?? 0, JSON.stringify([...statuses])).to.be.greaterThan(CASES / 10);
    const storageErrors = await app.mux.metrics.storageErrors.get();
    expect(storageErrors.values.reduce((sum, v) => sum + v.value, 0)).to.equal(0);
  });
});
