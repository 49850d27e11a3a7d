// Generates docs/configuration.md from the config JSON Schema: `npm run docs:config`.
// test/docs/configuration.test.ts fails when the committed file differs from what this renders.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { configSchema, targetSchemaOf } from '../src/config/schema.js';
import { targetKinds } from '../src/publishers/registry.js';
import { baseTargetProperties } from '../src/config/target.js';

/** A JSON Schema node, as loosely as this generator reads it. */
interface Schema {
  type?: string;
  description?: string;
  default?: unknown;
  enum?: readonly unknown[];
  const?: unknown;
  properties?: Record<string, Schema>;
  additionalProperties?: boolean | Schema;
  items?: Schema;
  required?: readonly string[];
  minimum?: number;
  maximum?: number;
  maxLength?: number;
  pattern?: string;
  oneOf?: readonly Schema[];
  anyOf?: readonly Schema[];
  not?: Schema;
  dependencies?: Record<string, readonly string[]>;
  'x-duration'?: boolean;
  'x-secret'?: boolean;
}

/** Where docs/configuration.md lives. */
export const CONFIG_DOCS = join(fileURLToPath(new URL('.', import.meta.url)), '..', 'docs', 'configuration.md');

const code = (v: unknown) => `\`${typeof v === 'string' ? v : JSON.stringify(v)}\``;
const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\s*\n\s*/g, ' ');
/** Schema prose as Markdown: `*` and `_` outside code spans are literal (`*.yml`). */
const prose = (text: string) => text.split('`').map((part, i) => (i % 2 ? part : part.replace(/([*_])/g, '\\$1'))).join('`');

/** The Type column: `duration`, `string (secret)`, `list of string`, `map of string → string`, one of the enum values. */
function typeOf(s: Schema): string {
  if (s.const !== undefined) return code(s.const);
  if (s.enum) return `one of ${s.enum.map(code).join(', ')}`;
  if (s['x-duration']) return 'duration';
  if (s['x-secret']) return 'string (secret)';
  if (s.type === 'array') return `list of ${s.items?.oneOf ? 'targets (see [Targets](#targets))' : s.items ? typeOf(s.items) : 'any'}`;
  if (s.type === 'object' && !s.properties && typeof s.additionalProperties === 'object') return `map of string → ${typeOf(s.additionalProperties)}`;
  return s.type ?? 'any';
}

/** Constraints that the description does not already say, as short sentences. */
function constraints(s: Schema): string[] {
  const parts: string[] = [];
  if (s.minimum !== undefined && s.maximum !== undefined) parts.push(`Range: ${s.minimum} to ${s.maximum}.`);
  else if (s.minimum !== undefined) parts.push(`Minimum: ${s.minimum}.`);
  else if (s.maximum !== undefined) parts.push(`Maximum: ${s.maximum}.`);
  if (s.maxLength !== undefined) parts.push(`At most ${s.maxLength} characters.`);
  if (s.pattern !== undefined) parts.push(`Pattern: ${code(s.pattern)}.`);
  if (s.items) parts.push(...constraints(s.items).map((c) => `Each item: ${c.charAt(0).toLowerCase()}${c.slice(1)}`));
  return parts;
}

/** One table row per field, nested objects flattened as `parent.child`. */
function rows(properties: Record<string, Schema>, required: readonly string[] = [], prefix = ''): string[] {
  return Object.entries(properties).flatMap(([name, s]) => {
    const path = `${prefix}${name}`;
    const type = `${typeOf(s)}${required.includes(name) ? ', **required**' : ''}`;
    const dflt = s.default === undefined || (s.type === 'object' && s.properties) ? '' : code(s.default);
    const row = `| ${cell(code(path))} | ${cell(type)} | ${cell(dflt)} | ${cell([prose(s.description ?? ''), ...constraints(s)].filter(Boolean).join(' '))} |`;
    return [row, ...(s.type === 'object' && s.properties ? rows(s.properties, s.required, `${path}.`) : [])];
  });
}

function table(properties: Record<string, Schema>, required?: readonly string[], prefix = ''): string {
  return ['| Field | Type | Default | Description |', '|---|---|---|---|', ...rows(properties, required, prefix)].join('\n');
}

/** Rules across fields: `oneOf` of required sets, `dependencies`, `not` both. */
function rules(s: Schema): string[] {
  const out: string[] = [];
  const sets = (list: readonly Schema[]) => list.map((b) => (b.required ?? []).map(code).join(' + ')).join(' or ');
  if (s.oneOf?.every((b) => b.required)) out.push(`Exactly one of ${sets(s.oneOf)}.`);
  if (s.anyOf?.every((b) => b.required)) out.push(`At least one of ${sets(s.anyOf)}.`);
  for (const [field, needs] of Object.entries(s.dependencies ?? {})) out.push(`${code(field)} requires ${needs.map(code).join(', ')}.`);
  return out;
}

/** A minimal target of one type: its required fields with placeholders. */
function example(type: string, s: Schema): string {
  const needed = (s.required ?? []).filter((f) => f !== 'name' && f !== 'type');
  const first = s.oneOf?.[0]?.required ?? [];
  const fields = [...needed, ...first, ...first.flatMap((f) => s.dependencies?.[f] ?? [])];
  return ['```yaml', 'targets:', `  - name: my-${type}`, `    type: ${type}`, ...[...new Set(fields)].map((f) => `    ${f}: <${f}>`), '```'].join('\n');
}

/** The whole of docs/configuration.md. */
export function renderConfigDocs(): string {
  const targets = { ...configSchema.properties.targets, items: targetSchemaOf(targetKinds) };
  const props = { ...configSchema.properties, targets } as unknown as Record<string, Schema>;
  const sections = Object.entries(props).filter(([, s]) => s.type === 'object' && s.properties);
  const scalars = Object.fromEntries(Object.entries(props).filter(([, s]) => !(s.type === 'object' && s.properties)));
  const base = baseTargetProperties as unknown as Record<string, Schema>;
  const types = targetKinds.map((k) => [k.type, k.schema as Schema] as const);
  const out: string[] = [
    '# Configuration reference',
    '',
    '<!-- Generated by scripts/gen-config-docs.ts from the config JSON Schema (src/config/schema.ts and each target type\'s schema). Do not edit: run `npm run docs:config`. -->',
    '',
    'alertmux reads one YAML file (`alertmux --config FILE`; check it with `alertmux check-config FILE`). Every field is optional unless marked **required**; the defaults below apply when a field is left out.',
    '',
    '- **Durations** are Prometheus-style: `500ms`, `30s`, `5m`, `1h30m`, `7d`.',
    '- **Secret references**: any string may be `${env:NAME}` (an environment variable) or `${file:/path}` (a file\'s content without its trailing newline; relative paths are relative to the config file). Fields marked *(secret)* are redacted in logs, API answers and `check-config` output.',
    '- A reload (`SIGHUP` or `POST /-/reload`) validates the whole new config first and keeps the running one if anything is wrong.',
    '',
    '## Contents',
    '',
    '- [Top level](#top-level)',
    ...sections.map(([name]) => `- [\`${name}\`](#${name})`),
    '- [Targets](#targets)',
    ...types.map(([type]) => `  - [\`${type}\`](#type-${type})`),
    '',
    '## Top level',
    '',
    table(scalars),
    '',
  ];
  for (const [name, s] of sections) out.push(`## \`${name}\``, '', prose(s.description ?? ''), '', table(s.properties ?? {}, s.required, `${name}.`), '');
  out.push(
    '## Targets',
    '',
    `\`targets\`: ${props['targets']?.description ?? ''} Targets also come from \`targets_dir\` (one file, or one mounted Secret directory holding \`config\`, per target; the name defaults to the file or directory name). \`type\` selects one of the types below.`,
    '',
    '### Fields of every target',
    '',
    table(base, ['name', 'type']).replace('|---|---|---|---|', `|---|---|---|---|\n| \`type\` | one of ${types.map(([t]) => code(t)).join(', ')}, **required** |  | Target type. |`),
    '',
  );
  for (const [type, s] of types) {
    const own = Object.fromEntries(Object.entries(s.properties ?? {}).filter(([f]) => f !== 'type' && !(f in base)));
    out.push(`<a id="type-${type}"></a>`, '', `### \`${type}\``, '', prose(s.description ?? ''), '', example(type, s), '');
    if (Object.keys(own).length) out.push(table(own, s.required), '');
    const extra = rules(s);
    if (extra.length) out.push(...extra.map((r) => `- ${r}`), '');
  }
  return `${out.join('\n').replace(/\n{3,}/g, '\n\n').trimEnd()}\n`;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(CONFIG_DOCS, renderConfigDocs());
  console.log(`wrote ${CONFIG_DOCS}`);
}
