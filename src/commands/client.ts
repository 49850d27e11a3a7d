import { readFileSync } from 'node:fs';
import { request, type Dispatcher } from 'undici';
import type { CommandIO } from './send-test.js';

/** The default address of a running alertmux (the config's default `listen`). */
export const DEFAULT_URL = 'http://127.0.0.1:9095';

/** parseArgs options every command that talks to a running alertmux takes. */
export const CLIENT_OPTIONS = {
  url: { type: 'string', short: 'u' },
  'token-file': { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** The help lines of CLIENT_OPTIONS. */
export const CLIENT_HELP = `  -u, --url URL         base URL of alertmux (default: $ALERTMUX_URL or ${DEFAULT_URL})
      --token-file FILE admin bearer token read from FILE (default: $ALERTMUX_TOKEN)
      --json            print the API's JSON
  -h, --help            show this help

The admin token is never taken on the command line (it would show in ps and
the shell history). Exit code: 0 done, 1 alertmux could not be asked or
refused (unreachable, 401, 404, 4xx, 5xx), 2 usage error.`;

/** A failure to tell the user: the message and the exit code. */
export class CommandError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message);
  }
}

/** What the commands need from outside; tests pass their own. */
export type ClientIO = CommandIO & { http?: Dispatcher; readFile?: (path: string) => string };

/** A client of the admin API of one alertmux. */
export interface ApiClient {
  readonly url: string;
  /** GET or POST `path`; resolves to the JSON of a 2xx answer, throws CommandError for anything else. */
  call<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T>;
}

/** The client of the `--url` / `--token-file` options (or their environment defaults). */
export function apiClient(values: { url?: string; 'token-file'?: string }, io: ClientIO): ApiClient {
  const url = (values.url ?? io.env['ALERTMUX_URL'] ?? DEFAULT_URL).replace(/\/+$/, '');
  let token: string | undefined;
  if (values['token-file'] !== undefined) {
    const file = values['token-file'];
    try {
      // As a mounted Secret or `echo x > file` leaves it: the trailing newline is not part of the token.
      token = (io.readFile ?? ((p: string) => readFileSync(p, 'utf8')))(file).replace(/\r?\n$/, '');
    } catch (e) {
      throw new CommandError(`cannot read the token file ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  } else token = io.env['ALERTMUX_TOKEN'] ?? io.env['ALERTMUX_ADMIN_TOKEN'];
  return {
    url,
    async call<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
      const target = `${url}${path}`;
      let status: number;
      let text: string;
      try {
        const res = await request(target, {
          method,
          headers: {
            accept: 'application/json',
            ...(token ? { authorization: `Bearer ${token}` } : {}),
            ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          },
          body: body === undefined ? undefined : JSON.stringify(body),
          signal: AbortSignal.timeout(30_000),
          ...(io.http ? { dispatcher: io.http } : {}),
        });
        status = res.statusCode;
        text = await res.body.text();
      } catch (e) {
        throw new CommandError(`cannot reach alertmux at ${url}: ${(e as { code?: string }).code ?? (e as Error).message}`);
      }
      let json: unknown;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      const error = (json as { error?: unknown } | undefined)?.error;
      const why = typeof error === 'string' ? error : text.slice(0, 300);
      if (status === 401) {
        throw new CommandError(`${method} ${path}: 401 unauthorized (give the admin token in $ALERTMUX_TOKEN or with --token-file)`);
      }
      if (status === 404) throw new CommandError(`${method} ${path}: 404 ${why}`);
      if (status < 200 || status > 299) throw new CommandError(`${method} ${path}: HTTP ${status}: ${why}`);
      if (json === undefined) throw new CommandError(`${method} ${path}: the answer is not JSON (is ${url} an alertmux?)`);
      return json as T;
    },
  };
}

/** A path with the query parameters that have a value. */
export function withQuery(path: string, params: Record<string, string | undefined>): string {
  const query = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined) query.set(k, v);
  const text = query.toString();
  return text ? `${path}?${text}` : path;
}

/** Run a command's body: a CommandError becomes its message on stderr and its exit code. */
export async function guarded(io: CommandIO, body: () => Promise<number>): Promise<number> {
  try {
    return await body();
  } catch (e) {
    if (e instanceof CommandError) return io.err(e.message), e.exitCode;
    throw e;
  }
}

/** parseArgs, with a usage error as CommandError exit 2 (the message, then the usage). */
export function parseOrUsage<T>(parse: () => T, usage: string): T {
  try {
    return parse();
  } catch (e) {
    throw new CommandError(`${(e as Error).message}\n\n${usage}`, 2);
  }
}
