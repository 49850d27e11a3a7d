/** One Alertmanager-style label matcher: `name="v"`, `name!="v"`, `name=~"re"`, `name!~"re"`. */
export interface Matcher {
  readonly name: string;
  readonly op: '=' | '!=' | '=~' | '!~';
  readonly value: string;
  matches(labels: Record<string, string>): boolean;
}

const MATCHER = /^\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*(.*?)\s*$/;

/** Parse one matcher. Throws an Error whose message says what is wrong. */
export function parseMatcher(text: string): Matcher {
  const m = MATCHER.exec(text);
  if (!m) throw new Error(`bad matcher ${JSON.stringify(text)}: expected name, one of = != =~ !~, and a value`);
  const [, name = '', op = '=', raw = ''] = m;
  const value = unquote(raw, text);
  // An absent label matches as the empty string, as in Alertmanager.
  const get = (labels: Record<string, string>): string => labels[name] ?? '';
  let test: (v: string) => boolean;
  if (op === '=~' || op === '!~') {
    let re: RegExp;
    try {
      // Alertmanager anchors matcher regexes at both ends.
      re = new RegExp(`^(?:${value})$`);
    } catch (err) {
      throw new Error(`bad matcher ${JSON.stringify(text)}: invalid regex: ${(err as Error).message}`);
    }
    test = op === '=~' ? (v) => re.test(v) : (v) => !re.test(v);
  } else {
    test = op === '=' ? (v) => v === value : (v) => v !== value;
  }
  return { name, op: op as Matcher['op'], value, matches: (labels) => test(get(labels)) };
}

/**
 * Unescape as Alertmanager's `labels.ParseMatcher`: `\"`, `\\` and `\n` are escapes;
 * any other backslash stays literal, so regexes such as `"db-\d+"` keep their meaning.
 */
function unquote(raw: string, text: string): string {
  const quoted = raw.startsWith('"');
  const body = quoted ? raw.slice(1) : raw;
  let out = '';
  let closed = !quoted;
  for (let i = 0; i < body.length; i++) {
    const c = body[i] ?? '';
    if (c === '\\' && i < body.length - 1) {
      const next = body[++i] ?? '';
      out += next === 'n' ? '\n' : next === '"' || next === '\\' ? next : `\\${next}`;
    } else if (c === '"') {
      if (!quoted || i < body.length - 1) throw new Error(`bad matcher ${JSON.stringify(text)}: unescaped double quote`);
      closed = true;
    } else out += c;
  }
  if (!closed) throw new Error(`bad matcher ${JSON.stringify(text)}: unterminated quote`);
  return out;
}

/** All matchers must match (an empty list matches everything). */
export function matchesAll(matchers: readonly Matcher[], labels: Record<string, string>): boolean {
  return matchers.every((m) => m.matches(labels));
}
