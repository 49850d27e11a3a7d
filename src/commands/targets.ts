import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { request, type Dispatcher } from 'undici';
import { ago, formatTable } from './table.js';
import type { CommandIO } from './send-test.js';

/** Usage of `alertmux targets`. */
export const TARGETS_USAGE = `Usage: alertmux targets [--url URL] [--token-file FILE] [--json]

Lists the targets of a running alertmux (GET /api/v1/targets) with their
health, circuit breaker state, last success and last error. ENABLED says
"paused" for a target an operator paused (alertmux pause).

Options:
  -u, --url URL       base URL of alertmux (default: $ALERTMUX_URL or http://127.0.0.1:9095)
      --token-file F  admin bearer token read from file F (default: $ALERTMUX_TOKEN or $ALERTMUX_ADMIN_TOKEN)
      --token TOKEN   admin bearer token (visible in ps and the shell history: prefer the others)
      --json          print the API's JSON
  -h, --help          show this help`;

/** The part of a target of GET /api/v1/targets that the table shows. */
interface TargetView {
  name: string;
  type: string;
  enabled: boolean;
  paused?: boolean;
  health: string;
  breaker: { state: string; opensTrialAt?: string };
  lastSuccessAt?: string;
  lastError?: { at?: string; message?: string };
}

/** The targets as a table: one line each. */
export function targetsTable(targets: readonly TargetView[], now: number): string {
  return formatTable(
    ['NAME', 'TYPE', 'ENABLED', 'HEALTH', 'BREAKER', 'LAST SUCCESS', 'LAST ERROR'],
    targets.map((t) => [
      t.name,
      t.type,
      t.enabled ? (t.paused ? 'paused' : 'yes') : 'no',
      t.health,
      t.breaker.opensTrialAt ? `${t.breaker.state} (trial ${ago(t.breaker.opensTrialAt, now)})` : t.breaker.state,
      ago(t.lastSuccessAt, now),
      t.lastError ? `${ago(t.lastError.at, now)}: ${t.lastError.message ?? ''}` : '-',
    ]),
  );
}

/** `alertmux targets`: 0 when the list was shown, 1 when alertmux could not be asked, 2 on a usage error. */
export async function targetsCommand(argv: string[], io: CommandIO & { http?: Dispatcher }): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        url: { type: 'string', short: 'u', default: io.env['ALERTMUX_URL'] ?? 'http://127.0.0.1:9095' },
        token: { type: 'string' },
        'token-file': { type: 'string' },
        json: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (e) {
    return io.err(`${(e as Error).message}\n\n${TARGETS_USAGE}`), 2;
  }
  if (values.help) return io.out(TARGETS_USAGE), 0;
  let token = values.token ?? io.env['ALERTMUX_TOKEN'] ?? io.env['ALERTMUX_ADMIN_TOKEN'];
  if (values['token-file'] !== undefined) {
    try {
      token = readFileSync(values['token-file'], 'utf8').replace(/\r?\n$/, '');
    } catch (e) {
      return io.err(`cannot read the token file ${values['token-file']}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`), 1;
    }
  }
  const url = `${values.url.replace(/\/+$/, '')}/api/v1/targets`;
  let status: number;
  let text: string;
  try {
    const res = await request(url, {
      headers: { accept: 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      signal: AbortSignal.timeout(10_000),
      ...(io.http ? { dispatcher: io.http } : {}),
    });
    status = res.statusCode;
    text = await res.body.text();
  } catch (e) {
    io.err(`cannot reach alertmux at ${values.url}: ${(e as { code?: string }).code ?? (e as Error).message}`);
    return 1;
  }
  if (status === 401) return io.err(`${url}: 401 unauthorized (pass the admin token with --token or ALERTMUX_ADMIN_TOKEN)`), 1;
  if (status !== 200) return io.err(`${url}: HTTP ${status}: ${text.slice(0, 300)}`), 1;
  let targets: TargetView[];
  try {
    targets = (JSON.parse(text) as { targets: TargetView[] }).targets;
    if (!Array.isArray(targets)) throw new Error('no targets array');
  } catch {
    return io.err(`${url}: not an alertmux targets list`), 1;
  }
  io.out(values.json ? JSON.stringify({ targets }, null, 2) : targets.length ? targetsTable(targets, (io.now ?? Date.now)()) : 'no targets configured');
  return 0;
}
