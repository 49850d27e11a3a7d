import { readFileSync, readdirSync, statSync } from 'node:fs';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { load as parseYaml } from 'js-yaml';
import { compileLinks } from '../alerts/enrich.js';
import { parseMatchers } from '../dispatch/matchers.js';
import { isHttpsImage, PAGERDUTY_ROUTING_KEY_LENGTH } from '../publishers/pagerduty.js';
import { ROOTLY_ALERTMANAGER_NOTIFY_TYPES } from '../publishers/rootly.js';
import { compileTemplate, type MessageTemplateConfig } from '../publishers/templates.js';
import { checkDeadman } from './deadman.js';
import { parseDuration } from './duration.js';
import { checkFallbacks } from './fallback.js';
import { configSchema, targetSchema } from './schema.js';
import { resolveSecrets, type SecretSource } from './secrets.js';
import type { TargetConfig } from '../publishers/registry.js';
import type { Config, TargetSource } from './types.js';

/** A config that failed to parse or validate. `details` lists every problem found (path: message). */
export class ConfigError extends Error {
  override name = 'ConfigError';
  constructor(
    message: string,
    readonly details: readonly string[] = [],
  ) {
    super(details.length ? `${message}:\n  ${details.join('\n  ')}` : message);
  }
}

/** Where a config text came from and how to resolve what it points at. */
export interface LoadOptions extends SecretSource {
  /** Directory that relative paths (`${file:...}`, `targets_dir`, storage) are resolved against. */
  baseDir: string;
  /** The config file's path, when the text came from one (shown as its targets' source). */
  file?: string;
}

let collecting: Set<unknown> | undefined;
// verbose: errors carry their schema, so a `not` can explain itself with its description.
// inlineRefs off: the config schema refers to the one compiled target validator instead of a second copy of it.
const ajv = new Ajv({ allErrors: true, useDefaults: true, discriminator: true, strict: true, verbose: true, inlineRefs: false });
ajv.addKeyword({
  keyword: 'x-duration',
  modifying: true,
  schemaType: 'boolean',
  errors: true,
  validate: function duration(_schema: boolean, data: unknown, _parent: unknown, cxt?: { parentData: Record<string | number, unknown>; parentDataProperty: string | number }) {
    const ms = typeof data === 'string' ? parseDuration(data) : undefined;
    if (ms === undefined) {
      (duration as unknown as { errors: Partial<ErrorObject>[] }).errors = [
        { keyword: 'x-duration', message: 'must be a duration such as 30s, 5m, 1h30m or 7d', params: {} },
      ];
      return false;
    }
    if (cxt) cxt.parentData[cxt.parentDataProperty] = ms;
    return true;
  },
});
// Values of fields marked secret are collected while validating, for redaction.
ajv.addKeyword({ keyword: 'x-secret', schemaType: 'boolean', validate: (_s: boolean, data: unknown) => (collecting?.add(data), true) });
// The target schema is compiled once and referenced from the config's `targets` (compiling it twice cost
// 60 ms and 16 MB of heap at start). It also validates targets_dir files and discovered Secrets on its own.
const TARGET_ID = 'alertmux:target';
ajv.addSchema({ ...targetSchema, $id: TARGET_ID });
const validateTarget = ajv.getSchema(TARGET_ID) as ValidateFunction;
const validateConfig = ajv.compile({
  ...configSchema,
  properties: { ...configSchema.properties, targets: { ...configSchema.properties.targets, items: { $ref: TARGET_ID } } },
});

/** Parse and validate alertmux.yml text into a frozen Config. Throws ConfigError with every problem. */
export function parseConfig(text: string, options: LoadOptions): Config {
  const raw = parseDocument(text, 'config');
  if (raw === undefined || raw === null) throw new ConfigError('config is empty');
  const problems: string[] = [];
  const secrets = new Set<string>();
  const resolved = resolveSecrets(raw, options, options.baseDir, problems, secrets);
  if (problems.length) throw new ConfigError('config has unresolved secret references', problems);

  collecting = secrets as Set<unknown>;
  try {
    if (!validateConfig(resolved)) throw new ConfigError('config does not match the schema', formatErrors(validateConfig.errors));
    const config = resolved as unknown as Omit<Config, 'secrets'>;
    const sources: Record<string, TargetSource> = {};
    for (const t of config.targets) sources[t.name] = { kind: 'config', ...(options.file ? { file: options.file } : {}) };
    if (config.targets_dir) {
      const dir = (config.targets_dir = resolve(options.baseDir, config.targets_dir));
      const files = new Map<TargetConfig, string>();
      const fromDir = loadTargetsDir(dir, options, problems, secrets, files);
      // A name already taken by the file is reported as a duplicate below; the file's target keeps its source.
      for (const t of fromDir) sources[t.name] ??= { kind: 'targets_dir', file: files.get(t) };
      config.targets = [...config.targets, ...fromDir];
    }
    checkReferences(config, problems);
    problems.push(...checkFallbacks(config.targets));
    problems.push(...checkDeadman(config));
    if (problems.length) throw new ConfigError('config is invalid', problems);
    if (config.storage.path !== ':memory:') config.storage.path = resolve(options.baseDir, config.storage.path);
    for (const t of config.targets) if (t.type === 'file') t.path = resolve(options.baseDir, t.path);
    return deepFreeze({ ...config, secrets: [...secrets].filter((s) => typeof s === 'string' && s.length > 0), sources });
  } finally {
    collecting = undefined;
  }
}

/** Read and parse a config file; relative paths in it are relative to the file. */
export function loadConfigFile(path: string, source: SecretSource = { env: {} }): Config {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read config file ${path}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  return parseConfig(text, { ...source, baseDir: dirname(resolve(path)), file: resolve(path) });
}

function parseDocument(text: string, what: string): unknown {
  try {
    return parseYaml(text);
  } catch (err) {
    throw new ConfigError(`${what} is not valid YAML`, [(err as Error).message.split('\n')[0] ?? String(err)]);
  }
}

/** `/targets/0/url: must match pattern ...`, one line per ajv error. */
function formatErrors(errors: ErrorObject[] | null | undefined, prefix = ''): string[] {
  const lines = (errors ?? [])
    .filter((e, _i, all) => {
      if (e.keyword === 'oneOf' || e.keyword === 'if') return false;
      // A missing `type` is already said by `required`; the discriminator would repeat it.
      const missingType = (x: ErrorObject) => x.keyword === 'required' && x.params['missingProperty'] === 'type' && x.instancePath === e.instancePath;
      return !(e.keyword === 'discriminator' && e.params['error'] === 'tag' && all.some(missingType));
    })
    .map((e) => {
      const where = `${prefix}${e.instancePath}` || '/';
      if (e.keyword === 'additionalProperties') return `${where}: unknown field "${String(e.params['additionalProperty'])}"`;
      if (e.keyword === 'discriminator' && e.params['error'] === 'mapping') {
        return `${prefix}${e.instancePath}/type: unknown target type "${String(e.params['tagValue'])}"`;
      }
      const description = (e.schema as { description?: unknown } | undefined)?.description;
      if (e.keyword === 'not' && typeof description === 'string') return `${where}: ${description}`;
      if (e.keyword === 'enum') return `${where}: must be one of ${(e.params['allowedValues'] as unknown[]).join(', ')}`;
      return `${where}: ${e.message ?? 'is invalid'}`;
    });
  return [...new Set(lines)];
}

/**
 * Each `*.yml|*.yaml|*.json` file, or each sub-directory holding a `config` file
 * (a Kubernetes Secret mounted as a volume), is one target named after the file
 * unless it names itself. `${file:...}` in it is relative to its own directory.
 */
export function loadTargetsDir(
  dir: string,
  source: SecretSource,
  problems: string[],
  secrets: Set<string>,
  files?: Map<TargetConfig, string>,
): TargetConfig[] {
  let entries: string[];
  try {
    entries = readdirSync(dir).filter((e) => !e.startsWith('.')).sort();
  } catch (err) {
    problems.push(`targets_dir: cannot read ${dir} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    return [];
  }
  const targets: TargetConfig[] = [];
  for (const entry of entries) {
    const path = join(dir, entry);
    let file: string;
    let name: string;
    // A dangling link (a Secret key removed mid-update) is not a directory; reading it below reports it.
    if (statSync(path, { throwIfNoEntry: false })?.isDirectory()) {
      file = join(path, 'config');
      name = entry;
      try {
        statSync(file);
      } catch {
        continue; // not a target directory
      }
    } else if (['.yml', '.yaml', '.json'].includes(extname(entry))) {
      file = path;
      name = basename(entry, extname(entry));
    } else continue;
    const target = parseTargetFile(file, name, source, problems, secrets);
    if (target) targets.push(target);
    if (target) files?.set(target, file);
  }
  return targets;
}

/** Parse one target definition (targets_dir file or discovered Secret); problems are prefixed with `origin`. */
export function parseTarget(
  text: string,
  defaultName: string,
  origin: string,
  source: SecretSource & { baseDir: string },
  problems: string[],
  secrets: Set<string>,
): TargetConfig | undefined {
  let raw: unknown;
  try {
    raw = parseDocument(text, origin);
  } catch (err) {
    problems.push(`${origin}: ${(err as ConfigError).details[0] ?? (err as Error).message}`);
    return undefined;
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    problems.push(`${origin}: must be a mapping of one target`);
    return undefined;
  }
  const local: string[] = [];
  const resolved = resolveSecrets({ name: defaultName, ...raw }, source, source.baseDir, local, secrets) as Record<string, unknown>;
  const previous = collecting;
  collecting = secrets as Set<unknown>;
  try {
    if (!local.length && !validateTarget(resolved)) local.push(...formatErrors(validateTarget.errors));
  } finally {
    collecting = previous;
  }
  if (local.length) {
    problems.push(...local.map((p) => `${origin}: ${p}`));
    return undefined;
  }
  return resolved as unknown as TargetConfig;
}

function parseTargetFile(file: string, name: string, source: SecretSource, problems: string[], secrets: Set<string>) {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    problems.push(`${file}: cannot read (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
    return undefined;
  }
  return parseTarget(text, name, file, { ...source, baseDir: dirname(file) }, problems, secrets);
}

/** What the schema cannot say: unique names, matchers and templates that compile. Also run on discovered targets. */
export function checkReferences(config: Omit<Config, 'secrets'>, problems: string[]): void {
  const seen = new Set<string>();
  config.targets.forEach((target, i) => {
    if (seen.has(target.name)) problems.push(`/targets/${i}/name: duplicate target name "${target.name}"`);
    seen.add(target.name);
    for (const key of ['match', 'match_route'] as const) {
      (target[key] ?? []).forEach((m, j) => {
        try {
          parseMatchers(m);
        } catch (err) {
          problems.push(`/targets/${i}/${key}/${j}: target "${target.name}": ${(err as Error).message}`);
        }
      });
    }
    for (const [path, source] of targetTemplates(target)) {
      try {
        compileTemplate(source);
      } catch (err) {
        const lines = (err as Error).message.split('\n'); // Handlebars: "Parse error on line 1:", source, caret, "Expecting ..."
        problems.push(`/targets/${i}/${path}: ${[...new Set([lines[0], lines.at(-1)])].join(' ')}`);
      }
    }
    if (target.type === 'pagerduty') {
      // Checked on the resolved value (secret references are resolved first); the message gives the length, never the key.
      const length = [...target.routing_key].length;
      if (length !== PAGERDUTY_ROUTING_KEY_LENGTH) {
        problems.push(`/targets/${i}/routing_key: must be ${PAGERDUTY_ROUTING_KEY_LENGTH} characters (an Events API v2 integration key), not ${length}`);
      }
      target.images.forEach((image, j) => {
        // A template may render an https:// URL; a fixed src must be one (PagerDuty shows no other images).
        if (!image.src.includes('{{') && !isHttpsImage(image.src)) problems.push(`/targets/${i}/images/${j}/src: must be an https:// URL`);
      });
    }
    if (target.type === 'rootly' && target.mode === 'alertmanager' && target.notification_target) {
      const type = target.notification_target.type;
      if (!ROOTLY_ALERTMANAGER_NOTIFY_TYPES.includes(type)) {
        problems.push(`/targets/${i}/notification_target/type: "${type}" is not a notification target of Rootly's Alertmanager alert source (${ROOTLY_ALERTMANAGER_NOTIFY_TYPES.join(', ')}); use mode: api`);
      }
    }
  });
  for (const [name, source] of Object.entries(config.enrich.links)) {
    try {
      compileLinks({ [name]: source });
    } catch (err) {
      const lines = (err as Error).message.split('\n'); // as above; the source line is left out
      problems.push(`/enrich/links/${name}: ${[...new Set([lines[0], lines.at(-1)])].join(' ')}`);
    }
  }
}

/** A target's Handlebars templates, by their path under the target: chat `template` parts, PagerDuty's summary and images. */
function targetTemplates(target: TargetConfig): Array<[path: string, source: string]> {
  const found: Array<[string, string]> = [];
  const template = 'template' in target ? (target.template as MessageTemplateConfig | undefined) : undefined;
  for (const [part, source] of Object.entries(template ?? {})) found.push([`template/${part}`, source as string]);
  if (target.type === 'pagerduty') {
    if (target.summary !== undefined) found.push(['summary', target.summary]);
    target.images.forEach((image, j) => {
      for (const field of ['src', 'href', 'alt'] as const) {
        const source = image[field];
        if (source !== undefined) found.push([`images/${j}/${field}`, source]);
      }
    });
  }
  return found;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
