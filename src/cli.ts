#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { checkConfig } from './commands/check-config.js';
import { sendTestCommand } from './commands/send-test.js';
import { targetsCommand } from './commands/targets.js';
import { migrateStorageCommand } from './commands/migrate-storage.js';
import { openImportDestination } from './delivery/open.js';
import { controlCommand } from './commands/control.js';
import { deliveriesCommand, replayCommand } from './commands/deliveries.js';
import { notificationCommand, notificationsCommand } from './commands/notifications.js';
import type { ClientIO } from './commands/client.js';

/** Commands that talk to a running alertmux's admin API. */
const CLIENT_COMMANDS: Record<string, (argv: string[], io: ClientIO) => Promise<number>> = {
  notifications: notificationsCommand,
  notification: notificationCommand,
  deliveries: deliveriesCommand,
  replay: replayCommand,
  pause: (argv, io) => controlCommand('pause', argv, io),
  resume: (argv, io) => controlCommand('resume', argv, io),
};

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
/** The embedded default config: a `file` target and a `log` target on 127.0.0.1:9095. */
export const DEFAULT_CONFIG = join(root, 'config', 'alertmux.yml');
const VERSION = (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string }).version;

const USAGE = `alertmux ${VERSION}: fan Alertmanager webhooks out to many targets, durably and in parallel.

Usage:
  alertmux [--config FILE] [--listen HOST:PORT]   run the service
  alertmux check-config [--no-secrets] FILE...     validate config files and summarise their targets
  alertmux send-test --config FILE [--target NAME] [--resolve] [--json]
                                                   send a test alert through the targets, print a result per target
  alertmux targets [--url URL] [--token-file FILE] [--json]
                                                   list a running alertmux's targets with health and breaker state
  alertmux notifications [--alertname A] [--target T] [--since 1h] [--outcome O] [--limit N] [--json]
                                                   list a running alertmux's notifications, newest first
  alertmux notification ID [--json]                one notification: alerts, targets, attempt timeline
  alertmux deliveries [--state dead] [--target T] [--since 1h] [--json]
                                                   the retry queue and the dead letters
  alertmux replay (ID... | --target T [--state dead] [--since 1h])
                                                   replay deliveries
  alertmux migrate-storage --from FILE --to URL [--dry-run]
                                                   copy an SQLite ledger's open work into PostgreSQL
  alertmux pause TARGET | alertmux resume TARGET   hold a target's deliveries / release them
                                                   (these talk to --url, default $ALERTMUX_URL or
                                                   http://127.0.0.1:9095, with the admin token from
                                                   $ALERTMUX_TOKEN or --token-file FILE)
  alertmux help [<command>]                        this help, or the help of one command (also: <command> --help)

Options:
  -c, --config FILE      config file (default: the embedded ${DEFAULT_CONFIG})
  -l, --listen HOST:PORT listen address (overrides the config's listen)
  -h, --help             show this help
  -v, --version          print the version

Signals: SIGHUP reloads the config (as POST /-/reload does); SIGTERM drains and exits.
Environment: LOG_LEVEL overrides log.level; ALERTMUX_SHUTDOWN_GRACE_MS (default 10000).`;

const CHECK_USAGE = `Usage: alertmux check-config [--no-secrets] FILE...

Validates each config file and its targets_dir files like 'amtool check-config',
in one pass: prints every problem, one per line (file:line:column, the target's
name, the field) and exits 1, or prints a summary of the targets (secrets
redacted) and exits 0. A broken targets_dir file fails the check too. Warnings
(no targets) do not.

Secret references (\${env:NAME}, \${file:/path}) are resolved, so run it with
the same environment and files as the service, or:
  --no-secrets   check the references' syntax only and resolve none (CI without
                 the secrets); what depends on a secret's value is not checked.`;

/** Run the command line; resolves to the exit code (the server never resolves). */
export async function main(argv: string[], out: (s: string) => void = console.log, err: (s: string) => void = console.error): Promise<number> {
  const [command] = argv;
  if (command === 'help') {
    // `alertmux help [COMMAND]`, as `git help` and `amtool help` have it.
    const topic = argv[1];
    if (topic === undefined) return out(USAGE), 0;
    if (['check-config', 'send-test', 'targets', 'migrate-storage', ...Object.keys(CLIENT_COMMANDS)].includes(topic)) return main([topic, '--help'], out, err);
    return err(`no command "${topic}"\n\n${USAGE}`), 2;
  }
  if (command === 'check-config') {
    let parsed;
    try {
      parsed = parseArgs({ args: argv.slice(1), allowPositionals: true, options: { help: { type: 'boolean', short: 'h' }, 'no-secrets': { type: 'boolean' } } });
    } catch (e) {
      return err(`${(e as Error).message}\n\n${CHECK_USAGE}`), 2;
    }
    const { values, positionals } = parsed;
    if (values.help) return out(CHECK_USAGE), 0;
    if (!positionals.length) return err(CHECK_USAGE), 2;
    return checkConfig(positionals, { env: process.env, syntaxOnly: values['no-secrets'] === true }, out, err);
  }
  if (command === 'send-test') return sendTestCommand(argv.slice(1), { out, err, env: process.env, progress: !!process.stderr.isTTY, version: VERSION });
  if (command === 'targets') return targetsCommand(argv.slice(1), { out, err, env: process.env });
  if (command === 'migrate-storage') return migrateStorageCommand(argv.slice(1), { out, err, env: process.env, openDestination: openImportDestination });
  const client = command === undefined ? undefined : Object.hasOwn(CLIENT_COMMANDS, command) ? CLIENT_COMMANDS[command] : undefined;
  if (client) return client(argv.slice(1), { out, err, env: process.env });
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        config: { type: 'string', short: 'c' },
        listen: { type: 'string', short: 'l' },
        help: { type: 'boolean', short: 'h' },
        version: { type: 'boolean', short: 'v' },
      },
    }));
  } catch (e) {
    err(`${(e as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (values.help) return out(USAGE), 0;
  if (values.version) return out(VERSION), 0;
  const { runServer } = await import('./main.js');
  await runServer({ configPath: values.config ?? DEFAULT_CONFIG, listen: values.listen, version: VERSION });
  return -1;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main(process.argv.slice(2)).then(
    (code) => {
      if (code >= 0) process.exitCode = code;
    },
    (e: unknown) => {
      // A start failure the service logged already (one JSON line) is not printed again.
      if (!(e instanceof Error && 'logged' in e && e.logged === true)) console.error(e instanceof Error ? e.message : String(e));
      process.exitCode = 1;
    },
  );
}
