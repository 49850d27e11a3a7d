import { parseMatcherEntry, type MatchOp, type MatcherSpec } from './matcher-parse.js';
import { compileRe2 } from './re2.js';

/** One Alertmanager label matcher: `name="v"`, `name!="v"`, `name=~"re"`, `name!~"re"`. */
export interface Matcher {
  readonly name: string;
  readonly op: MatchOp;
  readonly value: string;
  matches(labels: Readonly<Record<string, string>>): boolean;
}

/**
 * Parse one config entry: one or more matchers in Alertmanager's syntax (`a="1"`, `a="1",b=~"2"`,
 * `{a="1", "service.name"="x"}`). Throws an Error whose message quotes the entry and says what is wrong.
 */
export function parseMatchers(entry: string): Matcher[] {
  let specs: MatcherSpec[];
  try {
    specs = parseMatcherEntry(entry).matchers;
  } catch (err) {
    throw new Error(`bad matcher ${JSON.stringify(entry)}: ${(err as Error).message}`);
  }
  return specs.map((spec) => {
    try {
      return createMatcher(spec);
    } catch (err) {
      throw new Error(`bad matcher ${JSON.stringify(entry)}: invalid regex for ${JSON.stringify(spec.name)}: ${(err as Error).message}`);
    }
  });
}

/** Exactly one matcher (Alertmanager's `parse.Matcher`). */
export function parseMatcher(text: string): Matcher {
  const matchers = parseMatchers(text);
  if (matchers.length !== 1 || !matchers[0]) {
    throw new Error(`bad matcher ${JSON.stringify(text)}: ${matchers.length ? `expected 1 matcher, found ${matchers.length}` : 'no matchers'}`);
  }
  return matchers[0];
}

/** All matchers of a list of config entries. */
export function compileMatchers(entries: readonly string[]): Matcher[] {
  return entries.flatMap(parseMatchers);
}

/** A matcher of a parsed spec; a regex is RE2's, anchored as Alertmanager anchors it: `^(?:re)$`. */
export function createMatcher({ name, op, value }: MatcherSpec): Matcher {
  let test: (v: string) => boolean;
  if (op === '=~' || op === '!~') {
    const re = compileRe2(`^(?:${value})$`);
    test = op === '=~' ? (v) => re.test(v) : (v) => !re.test(v);
  } else {
    test = op === '=' ? (v) => v === value : (v) => v !== value;
  }
  // An absent label matches as the empty string, as in Alertmanager; only own keys are labels
  // (a label named `constructor` is absent unless the alert has it).
  return { name, op, value, matches: (labels) => test(Object.hasOwn(labels, name) ? (labels[name] ?? '') : '') };
}

/** The notification's `routeLabels` (Alertmanager >= 0.34); none when absent or not a label set. */
export function routeLabels(msg: { readonly routeLabels?: unknown }): Readonly<Record<string, string>> {
  const labels = msg.routeLabels;
  return typeof labels === 'object' && labels !== null && !Array.isArray(labels) ? (labels as Record<string, string>) : {};
}

/** All matchers must match (an empty list matches everything). */
export function matchesAll(matchers: readonly Matcher[], labels: Readonly<Record<string, string>>): boolean {
  return matchers.every((m) => m.matches(labels));
}
