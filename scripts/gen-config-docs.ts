// Generates docs/configuration.md from the config JSON Schema: `npm run docs:config`.
// test/docs/configuration.test.ts fails when the committed file differs from what this renders.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { RESTART_ONLY } from '../src/config/restart-only.js';
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
  examples?: readonly unknown[];
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

/**
 * A minimal target of one type: its required fields, a secret as an `${env:...}` reference, else the field's
 * first schema example, else `<field>`. It passes `check-config --no-secrets` (test/docs/yaml-blocks.test.ts).
 */
function example(type: string, s: Schema): string {
  const needed = (s.required ?? []).filter((f) => f !== 'name' && f !== 'type');
  const first = s.oneOf?.[0]?.required ?? [];
  const fields = [...needed, ...first, ...first.flatMap((f) => s.dependencies?.[f] ?? [])];
  const value = (f: string) => {
    const field = s.properties?.[f];
    if (field?.['x-secret']) return `\${env:${`MY_${type}_${f}`.toUpperCase()}}`;
    return field?.examples?.length ? String(field.examples[0]) : `<${f}>`;
  };
  return ['```yaml', 'targets:', `  - name: my-${type}`, `    type: ${type}`, ...[...new Set(fields)].map((f) => `    ${f}: ${value(f)}`), '```'].join('\n');
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
    'alertmux reads one YAML file (`alertmux --config FILE`; check it with `alertmux check-config FILE`, or `alertmux check-config --no-secrets FILE` in CI without the secrets). Every field is optional unless marked **required**; the defaults below apply when a field is left out.',
    '',
    '- **Durations** are Prometheus-style: `500ms`, `30s`, `5m`, `1h30m`, `7d`. A number without a unit is an error (`timeout: 30` has no unit; write 30s); `0` is zero.',
    '- **Secret references**: any string may be `${env:NAME}` (an environment variable) or `${file:/path}` (a file\'s content without its trailing newline; relative paths are relative to the config file). Fields marked *(secret)* are redacted in logs, API answers and `check-config` output.',
    '- A reload (`SIGHUP` or `POST /-/reload`) validates the whole new config first and keeps the running one if anything is wrong in the main file. A broken file in `targets_dir` fails only its own target, which keeps its last good version (see [Problems and targets\\_dir](#problems-and-targets_dir)).',
    '',
    '## Contents',
    '',
    '- [Top level](#top-level)',
    ...sections.map(([name]) => `- [\`${name}\`](#${name})`),
    '- [Targets](#targets)',
    ...types.map(([type]) => `  - [\`${type}\`](#type-${type})`),
    '- [Problems and targets\\_dir](#problems-and-targets_dir)',
    '',
    '## Top level',
    '',
    table(scalars),
    '',
  ];
  for (const [name, s] of sections) {
    out.push(`## \`${name}\``, '', prose(s.description ?? ''), '', table(s.properties ?? {}, s.required, `${name}.`), '');
    // A section's schema examples, each a block that passes `check-config --no-secrets` (test/docs/yaml-blocks.test.ts).
    for (const e of s.examples ?? []) out.push('```yaml', stringify({ [name]: e }, { lineWidth: 0 }).trimEnd(), '```', '');
  }
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
  out.push(...PROBLEMS);
  return `${out.join('\n').replace(/\n{3,}/g, '\n\n').trimEnd()}\n`;
}

/** How problems are reported, and what a broken targets_dir file does: not in the schema, so written here. */
const PROBLEMS = [
  '## Problems and targets_dir',
  '',
  '`alertmux check-config`, the start and every reload find all problems of a config in one pass: YAML syntax, secret references, the schema, names, matchers and regexes, templates and references between targets. Each is one line: the file (the main config or a `targets_dir` file), line and column, the target by its `name`, the field, and what is wrong:',
  '',
  '```text',
  '/etc/alertmux/alertmux.yml:3:12: dispatch.timeout: `timeout: 30` has no unit; write 30s (or 500ms, 5m, 1h)',
  '/etc/alertmux/alertmux.yml:10:5: target "slack-ops": unknown field `webhok_url`; did you mean `webhook_url`?',
  '/etc/alertmux/targets.d/team-db.yml:2:6: target "team-db": url: environment variable DB_HOOK_URL is not set',
  '```',
  '',
  'A problem in the main config rejects it whole: alertmux does not start, or a reload keeps the running config (`alertmux_config_last_reload_successful` 0, `POST /-/reload` answers 500 with every problem). A `targets_dir` file is checked on its own (bad YAML, schema, an unresolved secret, a name already taken by the config file or by another file, a bad matcher): a broken file keeps the version of its target that is running (a target that never loaded is left out), and the rest of the reload goes ahead, so one team\'s broken file cannot block another team\'s change. A broken file is logged at `error` with every problem, counted in `alertmux_targets_dir_broken_files` and `alertmux_targets_dir_file_last_load_success{file}` (the shipped alert `AlertmuxTargetsDirFileBroken`), and listed by `GET /api/v1/config/status`; `check-config` fails (exit 1) for it.',
  '',
  'Without the secrets (in CI), `alertmux check-config --no-secrets FILE` checks the syntax of each `${env:NAME}` and `${file:/path}` reference and resolves none; what depends on a secret\'s value (a URL\'s pattern, a PagerDuty routing key\'s length) is not checked (a `storage.url` is still checked with each reference standing for a value). A `${` that is not a reference is a problem in both modes. Warnings do not fail a check: a config with no targets, a literal password in `storage.url`, `storage.path` under driver postgres, a `storage.lease` shorter than 3 × `dispatch.timeout`, and a reload that changes settings read only at start (' +
    RESTART_ONLY.map((k) => `\`${k}\``).join(', ') +
    '), which keep their running values until a restart and are named in the reload\'s log line.',
];

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(CONFIG_DOCS, renderConfigDocs());
  console.log(`wrote ${CONFIG_DOCS}`);
}
