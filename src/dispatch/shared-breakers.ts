import type { Ledger } from '../delivery/ledger.js';
import type { Logger } from '../observability/logger.js';
import type { TargetRuntime } from './runtime.js';

/** Where an open breaker is recorded for the other replicas: `alertmux:breaker:<target>`, until its trial. */
export const BREAKER_KEY_PREFIX = 'alertmux:breaker:';

/** What a replica records of a breaker its attempts opened. */
interface OpenBreaker {
  /** When it lets a trial through (the record expires then). */
  until: number;
  trips: number;
  /** The replica that opened it. */
  by: string;
}

const parse = (text: string): OpenBreaker | undefined => {
  try {
    const { until, trips, by } = JSON.parse(text) as Partial<OpenBreaker>;
    return typeof until === 'number' && typeof trips === 'number' && typeof by === 'string' ? { until, trips, by } : undefined;
  } catch {
    return undefined;
  }
};

/**
 * Open breakers shared through the ledger (several replicas): a target one replica found down is not tried by the
 * others until that replica's trial. The replica whose attempts open a breaker records it until its trial; the
 * others, reading every few seconds (`refresh`), open theirs until then too, and let a trial through at once when
 * the record goes away because a trial closed it. Each replica still opens its breaker by its own attempts.
 */
export class SharedBreakers {
  constructor(
    private readonly deps: {
      store: Pick<Ledger, 'stateList' | 'stateSet' | 'stateDelete'>;
      replica: string;
      now: () => number;
      logger: Logger;
    },
  ) {}

  /** This replica's attempts opened `target`'s breaker, until `until`. */
  opened(target: string, until: number, trips: number): void {
    const record: OpenBreaker = { until, trips, by: this.deps.replica };
    this.deps.store.stateSet(BREAKER_KEY_PREFIX + target, JSON.stringify(record), until).catch((err: unknown) => this.failed('record', target, err));
  }

  /** A trial on this replica closed `target`'s breaker. */
  closed(target: string): void {
    this.deps.store.stateDelete(BREAKER_KEY_PREFIX + target).catch((err: unknown) => this.failed('clear', target, err));
  }

  /**
   * Follow what the other replicas recorded: a closed breaker of a target another replica found down opens until
   * that replica's trial; one opened so whose record is gone (a trial closed it) lets a trial through now. Returns
   * the targets of the latter (their deliveries may go). Rejects when the ledger cannot be read.
   */
  async refresh(targets: ReadonlyMap<string, TargetRuntime>): Promise<string[]> {
    const open = new Map<string, OpenBreaker>();
    for (const { key, value } of await this.deps.store.stateList(BREAKER_KEY_PREFIX, this.deps.now())) {
      const record = parse(value);
      if (record) open.set(key.slice(BREAKER_KEY_PREFIX.length), record);
    }
    const trial: string[] = [];
    for (const [name, target] of targets) {
      const record = open.get(name);
      if (record && record.by !== this.deps.replica) target.breaker.adopt(record.until, record.trips, record.by);
      else if (!record && target.breaker.openedElsewhere) {
        target.breaker.closedElsewhere();
        this.deps.logger.info('circuit breaker: the replica that opened it closed it; one trial delivery goes now', { target: name });
        trial.push(name);
      }
    }
    return trial;
  }

  private failed(what: 'record' | 'clear', target: string, err: unknown): void {
    this.deps.logger.warn(`could not ${what} an open circuit breaker for the other replicas`, { target, error: String(err) });
  }
}
