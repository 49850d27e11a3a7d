import type { ErrorObject } from 'ajv';
import { closest } from './suggest.js';
import type { LocalProblem } from './problems.js';

/**
 * The problems of an ajv run, one per problem (ajv's follow-on errors of `oneOf`/`if` left out), with typo
 * suggestions; `types` are the target types the config may name.
 */
export function schemaProblems(errors: ErrorObject[] | null | undefined, types: readonly string[]): LocalProblem[] {
  const all = errors ?? [];
  // A missing `type` is already said by `required`; the discriminator would repeat it.
  const missingType = (e: ErrorObject) => all.some((x) => x.keyword === 'required' && x.params['missingProperty'] === 'type' && x.instancePath === e.instancePath);
  const seen = new Set<string>();
  const out: LocalProblem[] = [];
  // `oneOf: [{required: [a]}, {required: [b]}]` fails with one `required` per branch: said once, as a choice.
  const choices = new Map<string, string[]>();
  for (const e of all) {
    const branch = /^(.*)\/(?:oneOf|anyOf)\/\d+\/required$/.exec(e.schemaPath);
    if (e.keyword === 'required' && branch) {
      const key = `${e.instancePath}\0${branch[1]}`;
      choices.set(key, [...(choices.get(key) ?? []), String(e.params['missingProperty'])]);
    }
  }
  // A required field that an unknown field is a typo of is said by the typo's line (`did you mean`).
  const typos = new Set(
    all.flatMap((e) => {
      if (e.keyword !== 'additionalProperties') return [];
      const hint = closest(String(e.params['additionalProperty']), Object.keys((e.parentSchema as { properties?: object } | undefined)?.properties ?? {}));
      return hint ? [`${e.instancePath}\0${hint}`] : [];
    }),
  );
  for (const e of all) {
    if (e.keyword === 'oneOf' || e.keyword === 'if') continue;
    if (e.keyword === 'discriminator' && e.params['error'] === 'tag' && missingType(e)) continue;
    // A duration's `type: string` is said better by x-duration (`timeout: 30` has no unit), which also takes a 0.
    if (e.keyword === 'type' && (e.parentSchema as Record<string, unknown> | undefined)?.['x-duration']) continue;
    const branch = e.keyword === 'required' && /^(.*)\/(?:oneOf|anyOf)\/\d+\/required$/.exec(e.schemaPath);
    const fields = branch ? choices.get(`${e.instancePath}\0${branch[1]}`) : undefined;
    const missing = e.keyword === 'required' ? (fields ?? [String(e.params['missingProperty'])]) : [];
    if (missing.some((f) => typos.has(`${e.instancePath}\0${f}`))) continue;
    const p = fields && fields.length > 1 ? { path: e.instancePath, message: `missing a required field: one of ${fields.map((f) => `\`${f}\``).join(', ')}` } : toProblem(e, types);
    const id = `${p.path}\0${p.message}`;
    if (seen.has(id)) continue;
    seen.add(id);
    out.push(p);
  }
  return out;
}

function toProblem(e: ErrorObject, types: readonly string[]): LocalProblem {
  const path = e.instancePath;
  if (e.keyword === 'additionalProperties') {
    const field = String(e.params['additionalProperty']);
    const known = Object.keys((e.parentSchema as { properties?: object } | undefined)?.properties ?? {});
    const hint = closest(field, known);
    return { path: `${path}/${field.replace(/~/g, '~0').replace(/\//g, '~1')}`, key: true, message: `unknown field \`${field}\`${hint ? `; did you mean \`${hint}\`?` : ''}` };
  }
  if (e.keyword === 'discriminator' && e.params['error'] === 'mapping') {
    const type = String(e.params['tagValue']);
    const hint = closest(type, types);
    return { path: `${path}/type`, message: `unknown target type "${type}"${hint ? `; did you mean "${hint}"?` : ''} (one of ${types.join(', ')})` };
  }
  if (e.keyword === 'required') return { path, message: `missing required field \`${String(e.params['missingProperty'])}\`` };
  if (e.keyword === 'type') return { path, message: e.message ?? 'has the wrong type', keep: true };
  const description = (e.schema as { description?: unknown } | undefined)?.description;
  if (e.keyword === 'not' && typeof description === 'string') return { path, message: description };
  if (e.keyword === 'enum') {
    const allowed = e.params['allowedValues'] as unknown[];
    const hint = typeof e.data === 'string' ? closest(e.data, allowed.filter((v): v is string => typeof v === 'string')) : undefined;
    return { path, message: `must be one of ${allowed.join(', ')}${hint ? `; did you mean ${hint}?` : ''}` };
  }
  return { path, message: e.message ?? 'is invalid' };
}
