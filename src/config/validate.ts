import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { parseDuration } from './duration.js';
import { configSchema, targetSchema } from './schema.js';
import { schemaProblems } from './schema-errors.js';
import type { LocalProblem } from './problems.js';

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
// The target schema is compiled once and referenced from the config's `targets` (compiling it twice cost
// 60 ms and 16 MB of heap at start). It also validates targets_dir files and discovered Secrets on its own.
const TARGET_ID = 'alertmux:target';
ajv.addSchema({ ...targetSchema, $id: TARGET_ID });
const targetValidator = ajv.getSchema(TARGET_ID) as ValidateFunction;
const configValidator = ajv.compile({
  ...configSchema,
  properties: { ...configSchema.properties, targets: { ...configSchema.properties.targets, items: { $ref: TARGET_ID } } },
});

/** `timeout: 30` (a number, or digits without a unit) says so and shows the fix; anything else shows the accepted forms. */
function durationMessage(key: string | number | undefined, data: unknown): string {
  const digits = typeof data === 'number' ? String(data) : typeof data === 'string' && /^\d+$/.test(data) ? data : undefined;
  if (digits !== undefined && typeof key === 'string') return `\`${key}: ${digits}\` has no unit; write ${digits}s (or 500ms, 5m, 1h)`;
  return 'must be a duration such as 30s, 5m, 1h30m or 7d';
}

/** Validate a whole config in place (defaults filled, durations to ms); secret-typed values are added to `secrets`. */
export function validateConfig(value: unknown, secrets: Set<string>): LocalProblem[] {
  return run(configValidator, value, secrets);
}

/** Validate one target (a targets_dir file, a discovered Secret) in place. */
export function validateTarget(value: unknown, secrets: Set<string>): LocalProblem[] {
  return run(targetValidator, value, secrets);
}

function run(validator: ValidateFunction, value: unknown, secrets: Set<string>): LocalProblem[] {
  const previous = collecting;
  collecting = secrets as Set<unknown>;
  try {
    return validator(value) ? [] : schemaProblems(validator.errors);
  } finally {
    collecting = previous;
  }
}
