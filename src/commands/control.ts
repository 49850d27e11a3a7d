import { parseArgs } from 'node:util';
import { apiClient, CLIENT_HELP, CLIENT_OPTIONS, CommandError, guarded, parseOrUsage, type ClientIO } from './client.js';

/** Usage of `alertmux pause` and `alertmux resume`. */
export const CONTROL_USAGE = `Usage: alertmux pause TARGET [--url URL] [--token-file FILE] [--json]
       alertmux resume TARGET [--url URL] [--token-file FILE] [--json]

pause: the target's deliveries (new ones and the queued ones) are recorded and
queued, not attempted, until it is resumed; alertmux keeps the pause across
reloads and restarts. resume: its queued deliveries go out at once, in order.
(POST /api/v1/targets/TARGET/pause or /resume.)

${CLIENT_HELP}`;

/** `alertmux pause TARGET` or `alertmux resume TARGET`. */
export async function controlCommand(action: 'pause' | 'resume', argv: string[], io: ClientIO): Promise<number> {
  return guarded(io, async () => {
    const { values, positionals } = parseOrUsage(() => parseArgs({ args: argv, allowPositionals: true, options: CLIENT_OPTIONS }), CONTROL_USAGE);
    if (values.help) return io.out(CONTROL_USAGE), 0;
    if (positionals.length !== 1) throw new CommandError(`give one target name\n\n${CONTROL_USAGE}`, 2);
    const name = positionals[0] ?? '';
    const client = apiClient(values, io);
    const target = await client.call<{ name: string; paused: boolean }>('POST', `/api/v1/targets/${encodeURIComponent(name)}/${action}`);
    if (values.json) return io.out(JSON.stringify(target, null, 2)), 0;
    io.out(`${target.name}: ${target.paused ? 'paused (its deliveries queue until it is resumed)' : 'active (queued deliveries released)'}`);
    return 0;
  });
}
