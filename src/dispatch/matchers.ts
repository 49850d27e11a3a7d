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

function unquote(raw: string, text: string): string {
  if (!raw.startsWith('"')) return raw;
  if (raw.length < 2 || !raw.endsWith('"')) throw new Error(`bad matcher ${JSON.stringify(text)}: unterminated quote`);
  try {
    return JSON.parse(raw) as string;
  } catch {
    return raw.slice(1, -1).replace(/\\(.)/g, '$1');
  }
}

/** All matchers must match (an empty list matches everything). */
export function matchesAll(matchers: readonly Matcher[], labels: Record<string, string>): boolean {
  return matchers.every((m) => m.matches(labels));
}
