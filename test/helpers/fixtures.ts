import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MockAgent } from 'undici';
import { parseConfig } from '../../src/config/load.js';
import { nopLogger } from '../../src/observability/logger.js';
import type { Alert, TargetMessage, WebhookMessage } from '../../src/alerts/types.js';
import type { Config } from '../../src/config/types.js';
import type { PublishContext, PublisherDeps, TargetState } from '../../src/publishers/publisher.js';
import { targetKinds } from '../../src/publishers/registry.js';

export const FIXTURES = join(fileURLToPath(new URL('.', import.meta.url)), '..', 'fixtures');

/** A fixture file's text. */
export function fixtureText(name: string): string {
  return readFileSync(join(FIXTURES, name), 'utf8');
}

/** A fresh copy of a captured Alertmanager 0.25 payload (test/fixtures/am025-*.json). */
export function fixture(name = 'am025-firing-2-firing-firing-noauth.json'): WebhookMessage {
  return JSON.parse(fixtureText(name)) as WebhookMessage;
}

/** A fresh webhook message (captured firing payload) with top-level overrides. */
export function webhookMessage(overrides: Partial<WebhookMessage> = {}): WebhookMessage {
  return { ...fixture(), ...overrides };
}

/** One alert with the given labels (firing unless said otherwise). */
export function alert(labels: Record<string, string>, overrides: Partial<Alert> = {}): Alert {
  return {
    status: 'firing',
    labels,
    annotations: { summary: `summary of ${labels['alertname'] ?? 'alert'}` },
    startsAt: '2026-11-22T22:18:13.254Z',
    endsAt: '0001-01-01T00:00:00Z',
    generatorURL: 'http://prometheus.example/graph',
    fingerprint: '',
    ...overrides,
  };
}

/** A message for a publisher: the same view enriched and original (tests of publishers need no enrichment). */
export function targetMessage(msg: WebhookMessage = webhookMessage()): TargetMessage {
  return { message: msg, original: msg };
}

/** Parse config text as the service would, with env and a base directory for relative paths. */
export function config(text: string, env: Record<string, string> = {}, baseDir = '/tmp'): Config {
  return parseConfig(text, { env, baseDir, kinds: targetKinds });
}

/** An in-memory TargetState (the real one lives in the ledger; see test/delivery). */
export function memoryState(now: () => number = Date.now): TargetState & { entries: Map<string, { value: unknown; expiresAt: number }> } {
  const entries = new Map<string, { value: unknown; expiresAt: number }>();
  return {
    entries,
    get: <T>(key: string) => {
      const e = entries.get(key);
      return e && e.expiresAt >= now() ? (JSON.parse(JSON.stringify(e.value)) as T) : undefined;
    },
    set: (key, value, ttlMs) => void entries.set(key, { value, expiresAt: now() + ttlMs }),
    delete: (key) => void entries.delete(key),
  };
}

/** Publisher deps around an undici MockAgent that refuses real connections. */
export function mockDeps(now: () => number = () => Date.parse('2026-11-22T23:00:00Z')): PublisherDeps & { agent: MockAgent; state: ReturnType<typeof memoryState> } {
  const agent = new MockAgent();
  agent.disableNetConnect();
  return { http: agent, agent, userAgent: 'alertmux-test', logger: nopLogger(), state: memoryState(now), now };
}

/** Context of an attempt. */
export function ctx(overrides: Partial<PublishContext> = {}): PublishContext {
  return { deliveryId: 'd_test', attempt: 1, signal: AbortSignal.timeout(5000), ...overrides };
}
