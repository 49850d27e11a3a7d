import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { parseDuration } from './duration.js';
import { configSchema, targetSchemaOf } from './schema.js';
import { schemaProblems } from './schema-errors.js';
import type { LocalProblem } from './problems.js';
import type { TargetKinds } from './target.js';

let collecting: Set<unknown> | undefined;
// verbose: errors carry their schema, so a `not` can explain itself with its description and an unknown field
// can be compared with the known ones. inlineRefs off: the config schema refers to the one compiled target validator.
const ajv = new Ajv({ allErrors: true, useDefaults: true, discriminator: true, strict: true, verbose: true, inlineRefs: false });
ajv.addKeyword({
  keyword: 'x-duration',
  modifying: true,
  schemaType: 'boolean',
  errors: true,
  validate: function duration(_schema: boolean, data: unknown, _parent: unknown, cxt?: { parentData: Record<string | number, unknown>; parentDataProperty: string | number }) {
    const ms = data === 0 ? 0 : typeof data === 'string' ? parseDuration(data) : undefined;
    if (ms === undefined) {
      (duration as unknown as { errors: Partial<ErrorObject>[] }).errors = [{ keyword: 'x-duration', message: durationMessage(cxt?.parentDataProperty, data), params: {} }];
      return false;
    }
    if (cxt) cxt.parentData[cxt.parentDataProperty] = ms;
    return true;
  },
});
// Values of fields marked secret are collected while validating, for redaction.
ajv.addKeyword({ keyword: 'x-secret', schemaType: 'boolean', validate: (_s: boolean, data: unknown) => (collecting?.add(data), true) });

interface Validators {
  target: ValidateFunction;
  config: ValidateFunction;
  types: readonly string[];
}
const compiled = new WeakMap<TargetKinds, Validators>();
let compiledCount = 0;

/**
 * The validators of a list of target kinds (the publishers' registry gives its `targetKinds`), compiled once per
 * list. The target schema is referenced from the config's `targets` rather than compiled twice (a second copy
 * costs start time and heap); it also validates targets_dir files and discovered Secrets on its own.
 */
function validatorsOf(kinds: TargetKinds): Validators {
  let v = compiled.get(kinds);
  if (!v) {
    const n = compiledCount++;
    const id = `alertmux:target:${n}`;
    ajv.addSchema({ ...targetSchemaOf(kinds), $id: id });
    const config = ajv.compile({
      ...configSchema,
      // One config schema per list of kinds (in practice one: the registry's).
      $id: n === 0 ? configSchema.$id : `${configSchema.$id}?kinds=${n}`,
      properties: { ...configSchema.properties, targets: { ...configSchema.properties.targets, items: { $ref: id } } },
    });
    v = { target: ajv.getSchema(id) as ValidateFunction, config, types: kinds.map((k) => k.type) };
    compiled.set(kinds, v);
  }
  return v;
}

/** `timeout: 30` (a number, or digits without a unit) says so and shows the fix; anything else shows the accepted forms. */
function durationMessage(key: string | number | undefined, data: unknown): string {
  const digits = typeof data === 'number' ? String(data) : typeof data === 'string' && /^\d+$/.test(data) ? data : undefined;
  if (digits !== undefined && typeof key === 'string') return `\`${key}: ${digits}\` has no unit; write ${digits}s (or 500ms, 5m, 1h)`;
  return 'must be a duration such as 30s, 5m, 1h30m or 7d';
}

/** Validate a whole config in place (defaults filled, durations to ms); secret-typed values are added to `secrets`. */
export function validateConfig(value: unknown, secrets: Set<string>, kinds: TargetKinds): LocalProblem[] {
  const v = validatorsOf(kinds);
  return run(v.config, value, secrets, v.types);
}

/** Validate one target (a targets_dir file, a discovered Secret) in place. */
export function validateTarget(value: unknown, secrets: Set<string>, kinds: TargetKinds): LocalProblem[] {
  const v = validatorsOf(kinds);
  return run(v.target, value, secrets, v.types);
}

function run(validator: ValidateFunction, value: unknown, secrets: Set<string>, types: readonly string[]): LocalProblem[] {
  const previous = collecting;
  collecting = secrets as Set<unknown>;
  try {
    return validator(value) ? [] : schemaProblems(validator.errors, types);
  } finally {
    collecting = previous;
  }
}
