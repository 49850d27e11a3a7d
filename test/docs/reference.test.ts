import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { Registry } from 'prom-client';
import { createMetrics } from '../../src/observability/metrics.js';
import { WEBHOOK_ROUTE } from '../../src/receiver/webhook.js';
import { startApp } from '../helpers/servers.js';

const DOCS = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..', 'docs');
const read = (name: string) => readFileSync(join(DOCS, name), 'utf8');

/** A layer of Express 5's router stack, as far as routes are concerned. */
interface Layer {
  route?: { path: string; methods: Record<string, boolean> };
  handle?: { stack?: Layer[] };
}

/** `METHOD /path` of every route an Express app serves, mounted routers included. */
function routes(stack: Layer[]): string[] {
  return stack.flatMap((layer) =>
    layer.route
      ? Object.keys(layer.route.methods).map((m) => `${m.toUpperCase()} ${layer.route?.path ?? ''}`)
      : layer.handle?.stack
        ? routes(layer.handle.stack)
        : [],
  );
}

describe('reference docs', () => {
  it('docs/api.md documents every HTTP route the app serves', async () => {
    const app = await startApp(`storage: {path: ':memory:'}\n`);
    try {
      // The bare node:http route served in front of Express, then Express's own.
      const served = [`${WEBHOOK_ROUTE.method} ${WEBHOOK_ROUTE.path}`, ...routes((app.mux.app as unknown as { router: { stack: Layer[] } }).router.stack)];
      expect(served.length).to.be.greaterThan(15);
      const api = read('api.md');
      expect(served.filter((r) => !api.includes(`\`${r}\``))).to.deep.equal([]);
    } finally {
      await app.close();
    }
  });

  it('docs/operations.md lists every alertmux metric', async () => {
    const registry = new Registry();
    createMetrics(registry);
    const names = (await registry.getMetricsAsJSON()).map((m) => m.name);
    const operations = read('operations.md');
    expect(names.filter((n) => !operations.includes(`| \`${n}\` |`))).to.deep.equal([]);
  });
});
