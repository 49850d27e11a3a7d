import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { TargetState } from '../publishers/publisher.js';

/** How long a firing test is remembered: `send-test --resolve` within this time resolves what it opened. */
export const TEST_MEMORY_MS = 24 * 3600_000;
const STARTS_AT = '\u0000startsAt';

type Entries = Record<string, { value: unknown; expiresAt: number }>;

/**
 * What `send-test` keeps between runs, in one JSON file: each target's correlation
 * state (Slack message ts, Rootly alert ids), so that `--resolve` updates or resolves
 * what the firing test created, and the firing test's `startsAt`. Unreadable or
 * unwritable files degrade to memory only (`problem` says why).
 */
export class SendTestState {
  private entries: Entries = {};
  problem?: string;

  constructor(
    private readonly path: string,
    private readonly now: () => number,
  ) {
    try {
      this.entries = JSON.parse(readFileSync(path, 'utf8')) as Entries;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'ENOENT') this.problem = `cannot read ${path}: ${code ?? (err as Error).message}`;
    }
  }

  /** The correlation state of one target. */
  forTarget(target: string): TargetState {
    const k = (key: string) => `${target}\u0000${key}`;
    return {
      get: <T>(key: string) => this.read(k(key)) as T | undefined,
      set: (key, value, ttlMs) => this.write(k(key), value, ttlMs),
      delete: (key) => this.write(k(key), undefined, 0),
    };
  }

  /**
   * `startsAt` of the test alert. A firing test reuses the remembered start (a repeat is the same
   * firing) or remembers `now`; a resolving one takes the remembered start, if any, and forgets it.
   */
  startsAt(now: number, resolve: boolean): string | undefined {
    const known = this.read(STARTS_AT) as string | undefined;
    if (resolve) {
      if (known !== undefined) this.write(STARTS_AT, undefined, 0);
      return known;
    }
    const startsAt = known ?? new Date(now).toISOString();
    this.write(STARTS_AT, startsAt, TEST_MEMORY_MS);
    return startsAt;
  }

  private read(key: string): unknown {
    const e = this.entries[key];
    return e && e.expiresAt >= this.now() ? e.value : undefined;
  }

  private write(key: string, value: unknown, ttlMs: number): void {
    if (value === undefined) delete this.entries[key];
    else this.entries[key] = { value, expiresAt: this.now() + ttlMs };
    const now = this.now();
    for (const [k, e] of Object.entries(this.entries)) if (e.expiresAt < now) delete this.entries[k];
    try {
      mkdirSync(dirname(this.path), { recursive: true });
      writeFileSync(`${this.path}.tmp`, JSON.stringify(this.entries), { mode: 0o600 });
      renameSync(`${this.path}.tmp`, this.path);
    } catch (err) {
      this.problem ??= `cannot write ${this.path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`;
    }
  }
}
