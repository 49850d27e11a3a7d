import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { configSchema } from '../../src/config/schema.js';
import { targetSchemas } from '../../src/publishers/registry.js';
import { CONFIG_DOCS, renderConfigDocs } from '../../scripts/gen-config-docs.js';

describe('docs/configuration.md', () => {
  const rendered = renderConfigDocs();

  it('is up to date with the config schema', () => {
    const committed = readFileSync(CONFIG_DOCS, 'utf8');
    if (committed !== rendered) {
      expect.fail('docs/configuration.md is out of date with src/config/schema.ts and the target schemas: run `npm run docs:config` and commit the result');
    }
  });

  it('lists every top-level field and every field of each section', () => {
    for (const [name, schema] of Object.entries(configSchema.properties)) {
      const fields = 'properties' in schema && schema.type === 'object' ? Object.keys(schema.properties).map((f) => `${name}.${f}`) : [name];
      for (const field of fields) expect(rendered, field).to.contain(`| \`${field}\` |`);
    }
  });

  it('documents every target type with its description and each of its fields', () => {
    for (const [type, schema] of Object.entries(targetSchemas as Record<string, { description?: string; properties: Record<string, unknown> }>)) {
      expect(rendered, type).to.contain(`### \`${type}\``);
      const section = rendered.slice(rendered.indexOf(`### \`${type}\``)).split('\n### ')[0] ?? '';
      expect(section).to.contain((schema.description ?? '').slice(0, 30));
      for (const field of Object.keys(schema.properties)) expect(rendered, `${type}.${field}`).to.contain(`| \`${field}\` |`);
    }
  });

  it('shows defaults as the config writes them (durations as text, not milliseconds)', () => {
    expect(rendered).to.match(/\| `dispatch\.timeout` \| duration \| `10s` \|/);
    expect(rendered).to.match(/\| `storage\.retention` \| duration \| `7d` \|/);
    expect(rendered).to.match(/\| `dispatch\.health_strategy` \| one of `skip_unhealthy`, `skip_unhealthy_and_degraded`, `publish_to_all` \| `skip_unhealthy` \|/);
  });

  it('marks secret fields and required fields', () => {
    expect(rendered).to.match(/\| `auth\.bearer_token` \| string \(secret\) \|/);
    expect(rendered).to.match(/\| `name` \| string, \*\*required\*\* \|/);
  });
});
