import { setFlagsFromString } from 'node:v8';

// Both flags are set here, at start, rather than left to the Dockerfile: node refuses them in NODE_OPTIONS
// (only a few V8 flags are allowed there), and a service started with `node dist/cli.js` or `npx alertmux`
// should keep the same memory bound as the image. docs/performance-notes.md has the measurements.

/**
 * How far V8 may grow the old generation past what survived its last full collection, in percent.
 * V8's own choice grows with the allocation rate, so under load the heap (and the resident size) grew
 * to several times what is live; 100 keeps it within twice what is live for a few percent of throughput.
 */
export const DEFAULT_HEAP_GROWING_PERCENT = 100;

/** The V8 flag this sets (also accepted on node's own command line, where it wins). */
const FLAG = '--heap-growing-percent';

/**
 * The heap growing percent to set: `ALERTMUX_HEAP_GROWING_PERCENT` (0 leaves it to V8), else the default;
 * undefined when node was started with the flag itself. Throws on a value that is not a whole number ≥ 0.
 */
export function heapGrowingPercent(env: NodeJS.ProcessEnv, execArgv: readonly string[]): number | undefined {
  // V8 spells its flags with - or _ alike.
  if (execArgv.some((arg) => arg.split('=')[0]?.replaceAll('_', '-') === FLAG)) return undefined;
  const value = env['ALERTMUX_HEAP_GROWING_PERCENT'];
  if (value === undefined || value === '') return DEFAULT_HEAP_GROWING_PERCENT;
  if (!/^\d+$/.test(value.trim())) throw new Error(`ALERTMUX_HEAP_GROWING_PERCENT must be a whole number ≥ 0 (0: V8's default), not ${JSON.stringify(value)}`);
  return Number(value);
}

/** Apply a heap growing percent to this process (every thread); 0 restores V8's own growth. */
export function limitHeapGrowth(percent: number, setFlags: (flags: string) => void = setFlagsFromString): void {
  setFlags(`${FLAG}=${percent}`);
}

/** V8's flag for pretenuring by allocation site, and its `--no-` form. */
const PRETENURING = 'allocation-site-pretenuring';

/**
 * Whether to turn off V8's allocation-site pretenuring: yes, unless node was started with the flag either way.
 * V8 moves an allocation site's objects straight to the old generation once enough of them survive a young
 * collection. The state of a notification in flight does (it lives about as long as its targets take), but
 * only for a while: pretenuring it fills the old generation with short-lived objects, so young collections
 * promote more and pause longer, and full collections come more often, with no throughput in return.
 */
export function pretenuringOff(execArgv: readonly string[]): boolean {
  return !execArgv.some((arg) => {
    const name = arg.split('=')[0]?.replaceAll('_', '-');
    return name === `--${PRETENURING}` || name === `--no-${PRETENURING}`;
  });
}

/** Turn off allocation-site pretenuring in this process (every thread). */
export function disablePretenuring(setFlags: (flags: string) => void = setFlagsFromString): void {
  setFlags(`--no-${PRETENURING}`);
}
