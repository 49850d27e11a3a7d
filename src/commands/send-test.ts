import { randomUUID } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Agent, type Dispatcher } from 'undici';
import winston from 'winston';
import { createEnricher } from '../alerts/enrich.js';
import { ConfigError, formatProblem, loadConfigFile } from '../config/load.js';
import { configRedactor, createPublisher, type TargetConfig } from '../publishers/registry.js';
import { SendTestState } from './send-test-state.js';
import { formatMs, formatTable } from './table.js';
import { testMessage } from './test-alert.js';
import type { Config } from '../config/types.js';
import type { Logger } from '../observability/logger.js';
import type { TargetState } from '../publishers/publisher.js';

/** Usage of `alertmux send-test`. */
export const SEND_TEST_USAGE = `Usage: alertmux send-test --config FILE [--target NAME]... [--resolve] [--json] [--state FILE]

Sends a test alert group (alertname AlertmuxTest, severity warning) through the
configured targets in parallel, ignoring their match rules, and prints one line
per target: result, HTTP status, duration and error. Use it to check a new
PagerDuty key or Slack webhook without waiting for a real alert.

Options:
  -c, --config FILE   config file (secret references are resolved as by the service)
  -t, --target NAME   only this target (repeat or comma-separate; a named disabled target is sent too)
  -r, --resolve       send the resolved version of the same group (closes the PagerDuty incident a test opened)
      --json          print the results as JSON
      --state FILE    where what the test created is remembered between runs (Slack message, Rootly
                      alert ids, its start time) so --resolve can update or resolve it
                      (default: alertmux-send-test-state.json in the temp directory)
  -h, --help          show this help

Exit code: 0 when no target failed, 1 when one did, 2 on a usage error.`;

/** What happened to the test alert at one target. */
export interface SendTestResult {
  target: string;
  type: string;
  result: 'succeeded' | 'failed' | 'skipped';
  status?: number;
  durationMs: number;
  reason?: string;
  retryable?: boolean;
  error?: string;
}

/** What sending needs from outside; the command line passes real ones. */
export interface SendTestDeps {
  http: Dispatcher;
  logger: Logger;
  userAgent: string;
  now: () => number;
  /** Correlation state of each target (kept between runs by the command line). */
  state: (target: string) => TargetState;
  /** When the test alert started (the remembered firing test's start). */
  startsAt?: string;
  /** Called as each target finishes (progress). */
  onResult?: (result: SendTestResult, done: number, total: number) => void;
}

/** Send the test group (firing, or resolved with `resolve`) to every one of `targets` at once; match rules are not applied. */
export async function sendTestAlerts(config: Config, targets: readonly TargetConfig[], resolve: boolean, deps: SendTestDeps): Promise<SendTestResult[]> {
  const original = testMessage(resolve ? 'resolved' : 'firing', deps.now(), deps.startsAt);
  const message = createEnricher(config.enrich)(original);
  const redact = configRedactor(config);
  let done = 0;
  return Promise.all(
    targets.map(async (target): Promise<SendTestResult> => {
      const result = await sendOne(target, config, { message, original }, resolve, deps, redact);
      deps.onResult?.(result, ++done, targets.length);
      return result;
    }),
  );
}

async function sendOne(
  target: TargetConfig,
  config: Config,
  msg: { message: ReturnType<typeof testMessage>; original: ReturnType<typeof testMessage> },
  resolve: boolean,
  deps: SendTestDeps,
  redact: (text: string) => string,
): Promise<SendTestResult> {
  const base = { target: target.name, type: target.type };
  if (resolve && !target.send_resolved) return { ...base, result: 'skipped', durationMs: 0, reason: 'sendResolvedFalse', error: 'send_resolved is false' };
  const started = performance.now();
  try {
    const publisher = createPublisher(target, { http: deps.http, userAgent: deps.userAgent, logger: deps.logger.child({ target: target.name }), state: deps.state(target.name), now: deps.now });
    try {
      const signal = AbortSignal.timeout(target.timeout ?? config.dispatch.timeout);
      const outcome = await publisher.publish(msg, { deliveryId: `send-test-${randomUUID()}`, attempt: 1, signal });
      const durationMs = performance.now() - started;
      const status = outcome.status === undefined ? {} : { status: outcome.status };
      if (outcome.ok) return { ...base, result: 'succeeded', ...status, durationMs };
      return { ...base, result: 'failed', ...status, durationMs, reason: outcome.reason, retryable: outcome.retryable, error: redact(outcome.message) };
    } finally {
      await publisher.close?.();
    }
  } catch (err) {
    return { ...base, result: 'failed', durationMs: performance.now() - started, reason: 'other', error: redact(err instanceof Error ? err.message : String(err)) };
  }
}

/** The results as the table `send-test` prints on a terminal. */
export function resultsTable(results: readonly SendTestResult[]): string {
  return formatTable(
    ['TARGET', 'TYPE', 'RESULT', 'STATUS', 'DURATION', 'ERROR'],
    results.map((r) => [r.target, r.type, r.result, r.status === undefined ? '-' : String(r.status), formatMs(r.durationMs), r.error ? `${r.reason}: ${r.error}` : '']),
  );
}

/** IO of the command; tests pass their own. */
export interface CommandIO {
  out: (s: string) => void;
  err: (s: string) => void;
  env: Record<string, string | undefined>;
  /** Whether stderr is a terminal (then each finished target is reported as it finishes). */
  progress?: boolean;
  http?: Dispatcher;
  logger?: Logger;
  now?: () => number;
  version?: string;
  /** Default of `send-test --state`. */
  stateFile?: string;
}

/** `alertmux send-test`: 0 when no target failed, 1 when one did, 2 on a usage error. */
export async function sendTestCommand(argv: string[], io: CommandIO): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        config: { type: 'string', short: 'c' },
        target: { type: 'string', short: 't', multiple: true },
        resolve: { type: 'boolean', short: 'r' },
        json: { type: 'boolean' },
        state: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (e) {
    return io.err(`${(e as Error).message}\n\n${SEND_TEST_USAGE}`), 2;
  }
  if (values.help) return io.out(SEND_TEST_USAGE), 0;
  if (!values.config) return io.err(`--config is required\n\n${SEND_TEST_USAGE}`), 2;

  let config: Config;
  try {
    config = loadConfigFile(values.config, { env: io.env });
  } catch (e) {
    io.err(e instanceof ConfigError ? `invalid config ${values.config}: ${e.message}` : (e as Error).message);
    return 1;
  }
  // A broken targets_dir file leaves its target out, as the service does; say so rather than send to fewer targets silently.
  for (const f of (config.targetFiles ?? []).filter((f) => f.state !== 'loaded')) {
    io.err(`warning: targets_dir file ${f.file} is broken and left out:\n  ${f.problems.map(formatProblem).join('\n  ')}`);
  }
  const names = (values.target ?? []).flatMap((t) => t.split(',')).map((t) => t.trim()).filter(Boolean);
  const unknown = names.filter((n) => !config.targets.some((t) => t.name === n));
  if (unknown.length) {
    io.err(`unknown target(s): ${unknown.join(', ')} (configured: ${config.targets.map((t) => t.name).join(', ') || 'none'})`);
    return 2;
  }
  // Disabled targets are left out unless named: naming one is how to test it before enabling it.
  const targets = names.length ? config.targets.filter((t) => names.includes(t.name)) : config.targets.filter((t) => t.enabled);
  if (!targets.length) return io.err('no enabled targets to send to'), 1;

  const status = values.resolve ? 'resolved' : 'firing';
  io.err(`sending a ${status} test alert to ${targets.length} target${targets.length === 1 ? '' : 's'}...`);
  const now = io.now ?? Date.now;
  const state = new SendTestState(values.state ?? io.stateFile ?? join(tmpdir(), 'alertmux-send-test-state.json'), now);
  const http = io.http ?? new Agent({ connections: 8 });
  try {
    const results = await sendTestAlerts(config, targets, !!values.resolve, {
      http,
      logger: io.logger ?? stderrLogger(),
      userAgent: `alertmux/${io.version ?? 'dev'} (send-test)`,
      now,
      state: (target) => state.forTarget(target),
      startsAt: state.startsAt(now(), !!values.resolve),
      onResult: io.progress ? (r, done, total) => io.err(`  [${done}/${total}] ${r.target}: ${r.result} (${formatMs(r.durationMs)})`) : undefined,
    });
    io.out(values.json ? JSON.stringify({ status, results }, null, 2) : resultsTable(results));
    if (state.problem) io.err(`note: ${state.problem}; --resolve may not find what this test created`);
    return results.some((r) => r.result === 'failed') ? 1 : 0;
  } finally {
    if (!io.http) await http.close();
  }
}

/** Warnings of publishers (and what `log` targets write) go to stderr, keeping stdout for the results. */
function stderrLogger(): Logger {
  return winston.createLogger({
    level: 'info',
    format: winston.format.combine(winston.format.timestamp(), winston.format.json()),
    transports: [new winston.transports.Console({ stderrLevels: ['error', 'warn', 'info', 'debug'] })],
  });
}
