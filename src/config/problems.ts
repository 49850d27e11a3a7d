import type { YamlSource } from './yaml-source.js';

/** A problem at a JSON pointer of one document, before it is placed in a file and a target. */
export interface LocalProblem {
  path: string;
  message: string;
  /** Point at the key of `path` rather than its value (an unknown field). */
  key?: boolean;
  /** Reported even where the value came from a secret reference that could not be resolved (a wrong type). */
  keep?: boolean;
}

/** One problem of a config: what is wrong, and where (as far as it is known). */
export interface Problem {
  message: string;
  /** Name of the target the problem is in (its `name`, or the name its targets_dir file gives it). */
  target?: string;
  /** The file it came from: the main config or a targets_dir file (absent for a config given as text). */
  file?: string;
  /** 1-based line and column in `file`, where the YAML parser knows them. */
  line?: number;
  column?: number;
  /** The field, under the target when `target` is set, else under the config root: `dispatch.timeout`, `match[1]`. */
  field?: string;
}

/** `file:line:col: target "x": field: message`, leaving out what is unknown. One problem, one line. */
export function formatProblem(p: Problem): string {
  const at = p.line === undefined ? '' : `${p.line}:${p.column ?? 1}`;
  const where = p.file && at ? `${p.file}:${at}` : (p.file ?? (at ? `line ${at}` : ''));
  return [where, p.target === undefined ? '' : `target "${p.target}"`, p.field ?? '', p.message].filter((s) => s !== '').join(': ');
}

/** `/targets/0/match/1` → `targets[0].match[1]`: how a field is named in a problem line. */
export function fieldName(pointer: string): string {
  return pointer
    .split('/')
    .slice(1)
    .map((seg) => seg.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((out, seg) => (/^\d+$/.test(seg) ? `${out}[${seg}]` : out ? `${out}.${seg}` : seg), '');
}

/** A config that failed to parse or validate. `problems` holds every problem found; `details` is them formatted, one per line. */
export class ConfigError extends Error {
  override name = 'ConfigError';
  readonly details: readonly string[];
  constructor(
    message: string,
    readonly problems: readonly Problem[] = [],
  ) {
    const details = problems.map(formatProblem);
    super(details.length ? `${message}:\n  ${details.join('\n  ')}` : message);
    this.details = details;
  }
}

/**
 * What a check across the loaded config returns per problem: a message, or a message with the target it is about
 * and the field (a JSON pointer under that target, or under the config root without a target) for its line.
 * A string that starts with a JSON pointer and `: ` (`/deadman/targets/0: unknown target "x"`) is read as one.
 */
export type CheckResult = string | { message: string; target?: string; path?: string };

/** `/a/b: message` → its pointer and message; anything else is a message alone. */
export function splitPointer(text: string): { path?: string; message: string } {
  const m = /^(\/[^\s:]*): ([\s\S]*)$/.exec(text);
  return m ? { path: m[1], message: m[2]! } : { message: text };
}

/** Place a problem of `source` at `pointer`: its line and column, the target it is in and its `field` (a pointer under that target). */
export function locate(p: LocalProblem, source: YamlSource, pointer: string, target: string | undefined, field: string): Problem {
  const pos = source.locate(pointer, p.key);
  // An unknown field is named in the message; its parent is the field of the line.
  const shown = fieldName(p.key ? field.replace(/\/[^/]*$/, '') : field);
  return {
    message: p.message,
    ...(target === undefined ? {} : { target }),
    ...(source.file === undefined ? {} : { file: source.file }),
    ...(pos ? { line: pos.line, column: pos.column } : {}),
    ...(shown ? { field: shown } : {}),
  };
}
