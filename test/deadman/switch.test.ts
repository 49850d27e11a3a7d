import { expect } from 'chai';
import { DEADMAN_GROUP_KEY, DEADMAN_LABELS, pageMessage } from '../../src/deadman/page.js';
import { DEADMAN_HEARTBEAT_KEY, DEADMAN_STATE_KEY, ledgerDeadmanState, parseState } from '../../src/deadman/state.js';
import { deadmanSettings, DeadmanSwitch, type DeadmanSettings } from '../../src/deadman/switch.js';
import { FakeClock } from '../helpers/clock.js';
import { recordingLogger, type LogLine } from '../helpers/logs.js';
import type { WebhookMessage } from '../../src/alerts/types.js';

const MIN = 60_000;
const T0 = Date.parse('2026-12-06T10:00:00Z');

/** The ledger's key-value table, in memory (rows as text, as SQLite keeps them). */
function memoryRows() {
  const rows = new Map<string, { value: string; expiresAt: number }>();
  return {
    rows,
    stateGet: async (key: string, now: number) => {
      const row = rows.get(key);
      return row && row.expiresAt >= now ? row.value : undefined;
    },
    stateSet: async (key: string, value: string, expiresAt: number) => void rows.set(key, { value, expiresAt }),
    stateDelete: async (key: string) => void rows.delete(key),
  };
}

interface Sent {
  msg: WebhookMessage;
  targets: readonly string[];
}

/** A switch on a fake clock, a fake dispatch and an in-memory ledger row; `restart()` builds a new one on the same row. */
function setup(settings: DeadmanSettings | undefined = deadmanSettings({ match: ['alertname="Watchdog"'], timeout: 5 * MIN, targets: ['pager'] })) {
  const clock = new FakeClock(T0);
  const ledger = memoryRows();
  const sent: Sent[] = [];
  const gauges = { lastHeartbeat: NaN, firing: NaN };
  let logs = recordingLogger();
  let failures = 0;
  /** Whether this replica holds the switch's job (a shared ledger: one replica at a time). */
  let owner = true;
  let configured = new Set(['pager', 'slack']);
  /** While set, a send waits for it (a dispatch still committing). */
  let gate: Promise<void> | undefined;
  const build = (mine: () => boolean = () => owner) =>
    new DeadmanSwitch({
      now: clock.now,
      timers: clock,
      send: async (msg, targets) => {
        if (gate) await gate;
        if (failures > 0) {
          failures--;
          throw new Error('cannot record the notification: SQLITE_FULL');
        }
        const known = targets.filter((t) => configured.has(t));
        if (!known.length) return undefined;
        sent.push({ msg, targets: known });
        return { notificationId: `n_${sent.length}`, outcome: 'delivered' };
      },
      state: ledgerDeadmanState(ledger, clock.now),
      exclusive: async () => mine(),
      metrics: { lastHeartbeat: { set: (v) => void (gauges.lastHeartbeat = v) }, firing: { set: (v) => void (gauges.firing = v) } },
      logger: logs.logger,
      retryMs: 10_000,
    });
  const ctx = {
    clock,
    settings,
    ledger,
    sent,
    gauges,
    sw: build(),
    get lines(): LogLine[] {
      return logs.lines;
    },
    failNext: (n: number) => void (failures = n),
    /** Hold sends until the returned function is called. */
    hold: () => {
      let release = () => {};
      gate = new Promise<void>((resolve) => (release = resolve));
      return () => {
        gate = undefined;
        release();
      };
    },
    setConfigured: (names: string[]) => void (configured = new Set(names)),
    setOwner: (mine: boolean) => void (owner = mine),
    start: (s: DeadmanSettings | undefined = settings) => ctx.sw.configure(s),
    advance: (ms: number) => clock.advance(ms, () => ctx.sw.idle()),
    heartbeat: async (msg: WebhookMessage = watchdog()) => {
      ctx.sw.observe(msg);
      await ctx.sw.idle();
    },
    /** Stop this switch and start a new one on the same ledger row after `downMs` (a restart). */
    restart: async (downMs = 0, next: DeadmanSettings | 'off' = settings as DeadmanSettings) => {
      await ctx.sw.stop();
      await clock.advance(downMs, async () => undefined);
      logs = recordingLogger();
      ctx.sw = build();
      await ctx.sw.configure(next === 'off' ? undefined : next);
    },
    /** Another replica on the same ledger (not running the switch until `setOwner(true)`), and time passing for both. */
    peer: () => {
      let mine = false;
      const peer = { sw: build(() => mine), setOwner: (m: boolean) => void (mine = m) };
      return { ...peer, advance: (ms: number) => clock.advance(ms, async () => void (await Promise.all([ctx.sw.idle(), peer.sw.idle()]))) };
    },
    pages: () => sent.filter((x) => x.msg.status === 'firing'),
    resolves: () => sent.filter((x) => x.msg.status === 'resolved'),
  };
  return ctx;
}

function watchdog(status: 'firing' | 'resolved' = 'firing', extra: Array<Record<string, string>> = []): WebhookMessage {
  const alert = (labels: Record<string, string>) => ({ status, labels, annotations: {}, startsAt: '2026-12-06T09:00:00Z', endsAt: '0001-01-01T00:00:00Z', fingerprint: '' });
  return {
    version: '4',
    groupKey: '{}/{alertname="Watchdog"}:{alertname="Watchdog"}',
    status,
    receiver: 'alertmux-heartbeat',
    groupLabels: {},
    commonLabels: {},
    commonAnnotations: {},
    externalURL: 'http://alertmanager:9093',
    alerts: [alert({ alertname: 'Watchdog', severity: 'none' }), ...extra.map(alert)],
  };
}

describe("dead man's switch", () => {
  describe('one replica at a time (a shared ledger)', () => {
    it('does not page while another replica runs the switch, still records its heartbeats, and pages once when it takes over', async () => {
      const x = setup();
      x.setOwner(false);
      await x.start();
      await x.heartbeat();
      expect(x.ledger.rows.get(DEADMAN_HEARTBEAT_KEY)?.value).to.equal(String(T0));
      await x.advance(30 * MIN);
      expect(x.pages(), 'the other replica pages').to.have.length(0);
      // The other replica died: its lock is free, this one takes the job at its next look (after retryMs).
      x.setOwner(true);
      await x.advance(10_000);
      expect(x.pages()).to.have.length(1);
      await x.advance(30 * MIN);
      expect(x.pages()).to.have.length(1);
    });

    it('resolves a page once when the heartbeat comes back to another replica, and the next replica to run it does not resolve it again', async () => {
      const x = setup();
      const b = x.peer();
      await x.start();
      await b.sw.configure(x.settings);
      await x.heartbeat();
      await b.advance(5 * MIN);
      expect(x.pages()).to.have.length(1);
      // The Watchdog is back, routed to the other replica: it records the heartbeat, not its view of the page.
      b.sw.observe(watchdog());
      await b.sw.idle();
      expect(parseState(x.ledger.rows.get(DEADMAN_STATE_KEY)?.value ?? '{}').page, 'the open page, as recorded').to.not.equal(undefined);
      expect(b.sw.status().state, 'what the other replica shows').to.equal('firing');
      // The replica that runs the switch finds the heartbeat in the ledger at its next look.
      await b.advance(10_000);
      expect(x.resolves()).to.have.length(1);
      expect(b.sw.status().state).to.equal('ok');
      // It goes away; the other replica runs the switch from now on, and has nothing left to resolve.
      x.setOwner(false);
      b.setOwner(true);
      b.sw.observe(watchdog());
      await b.advance(60_000);
      expect(x.resolves()).to.have.length(1);
      expect(x.pages()).to.have.length(1);
    });

    it('never writes back a page it saw open once another replica resolved it (no second resolve after a takeover)', async () => {
      const x = setup();
      x.setOwner(false);
      const b = x.peer();
      b.setOwner(true);
      await b.sw.configure(x.settings);
      await x.start();
      b.sw.observe(watchdog());
      await b.advance(5 * MIN);
      expect(x.pages()).to.have.length(1);
      // This replica looks, and shows the page open.
      await b.advance(10_000);
      expect(x.sw.status().state).to.equal('firing');
      // The running replica sees the Watchdog again and resolves; then this one sees one too.
      b.sw.observe(watchdog());
      await b.sw.idle();
      expect(x.resolves()).to.have.length(1);
      await x.heartbeat();
      b.setOwner(false);
      x.setOwner(true);
      await b.advance(30_000);
      expect(x.resolves(), 'resolves sent').to.have.length(1);
      expect(x.sw.status().state).to.equal('ok');
    });

    it('counts a heartbeat another replica recorded in the ledger', async () => {
      const x = setup();
      await x.start();
      await x.heartbeat();
      await x.advance(4 * MIN);
      // Another replica saw the Watchdog and wrote it to the shared ledger; this one saw nothing.
      await x.ledger.stateSet(DEADMAN_STATE_KEY, JSON.stringify({ lastHeartbeatAt: x.clock.now() }), Number.MAX_SAFE_INTEGER);
      await x.advance(1 * MIN);
      expect(x.pages()).to.have.length(0);
      await x.advance(4 * MIN);
      expect(x.pages(), 'five minutes after the heartbeat the other replica saw').to.have.length(1);
    });
  });

  describe('timing', () => {
    it('pages exactly once when the heartbeat stops for the timeout', async () => {
      const x = setup();
      await x.start();
      await x.heartbeat();
      await x.advance(5 * MIN - 1);
      expect(x.pages()).to.have.length(0);
      await x.advance(1);
      expect(x.pages()).to.have.length(1);
      await x.advance(60 * MIN);
      expect(x.pages(), 'one page, however long the silence').to.have.length(1);
      const { msg, targets } = x.pages()[0] as Sent;
      expect(targets).to.deep.equal(['pager']);
      expect(msg.groupKey).to.equal(DEADMAN_GROUP_KEY);
      expect(msg.alerts[0]?.labels).to.deep.equal({ alertname: 'AlertmuxHeartbeatMissing', severity: 'critical' });
      expect(msg.alerts[0]?.annotations['summary']).to.equal('Alertmanager heartbeat missing: no Watchdog for 5m');
      expect(msg.alerts[0]?.startsAt).to.equal(new Date(T0 + 5 * MIN).toISOString());
      expect(x.gauges.firing).to.equal(1);
      expect(x.lines.find((l) => l.message.includes('heartbeat missing; paged'))).to.deep.include({ level: 'warn' });
    });

    it('stays quiet while heartbeats arrive within the timeout', async () => {
      const x = setup();
      await x.start();
      for (let i = 0; i < 10; i++) {
        await x.heartbeat();
        await x.advance(4 * MIN);
      }
      expect(x.sent).to.have.length(0);
      expect(x.sw.status()).to.deep.include({ state: 'ok', deadlineAt: new Date(T0 + 36 * MIN + 5 * MIN).toISOString() });
      await x.advance(MIN);
      expect(x.pages()).to.have.length(1);
    });

    it('does not page before the first heartbeat, and says once that it is not armed', async () => {
      const x = setup();
      await x.start();
      expect(x.sw.status().state).to.equal('waiting');
      await x.advance(60 * MIN);
      expect(x.sent).to.have.length(0);
      const warnings = x.lines.filter((l) => l.message.includes('no heartbeat since start'));
      expect(warnings).to.have.length(1);
      expect(x.gauges.lastHeartbeat).to.equal(0);
      // The first heartbeat arms it, with a log line.
      await x.heartbeat();
      expect(x.lines.some((l) => l.message.includes('first heartbeat seen'))).to.equal(true);
      await x.advance(5 * MIN);
      expect(x.pages()).to.have.length(1);
    });

    it('resolves the page when the heartbeat returns, with the same group and alert, and can page again later', async () => {
      const x = setup();
      await x.start();
      await x.heartbeat();
      await x.advance(7 * MIN);
      await x.heartbeat();
      expect(x.resolves()).to.have.length(1);
      const page = x.pages()[0]?.msg.alerts[0];
      const resolve = x.resolves()[0]?.msg;
      expect(resolve?.groupKey).to.equal(DEADMAN_GROUP_KEY);
      expect(resolve?.alerts[0]).to.deep.include({ status: 'resolved', fingerprint: page?.fingerprint, startsAt: page?.startsAt });
      expect(resolve?.alerts[0]?.endsAt).to.equal(new Date(T0 + 7 * MIN).toISOString());
      expect(x.gauges.firing).to.equal(0);
      expect(x.lines.find((l) => l.message.includes('heartbeat back; page resolved'))).to.deep.include({ level: 'info' });
      await x.heartbeat();
      expect(x.resolves(), 'one resolve').to.have.length(1);
      await x.advance(5 * MIN);
      expect(x.pages()).to.have.length(2);
    });

    it('counts only firing alerts matching the matchers as heartbeats (any alert of the group)', async () => {
      const x = setup();
      await x.start();
      await x.heartbeat({ ...watchdog(), alerts: [] });
      x.sw.observe({ ...watchdog('resolved') });
      x.sw.observe({ ...watchdog(), alerts: watchdog().alerts.map((a) => ({ ...a, status: 'resolved' as const })) });
      x.sw.observe({ ...watchdog(), alerts: [{ ...(watchdog().alerts[0] as WebhookMessage['alerts'][number]), labels: { alertname: 'DiskFull' } }] });
      expect(x.sw.status().state).to.equal('waiting');
      // A group where one alert of several is the Watchdog.
      const mixed = watchdog('firing', [{ alertname: 'DiskFull' }]);
      mixed.alerts.reverse();
      await x.heartbeat(mixed);
      expect(x.sw.status().state).to.equal('ok');
      expect(x.gauges.lastHeartbeat).to.equal(T0 / 1000);
    });

    it('applies its own matchers (regex, several labels)', async () => {
      const x = setup(deadmanSettings({ match: ['alertname=~"Watchdog|DeadMansSwitch"', 'cluster="eu"'], timeout: MIN, targets: ['pager'] }));
      await x.start();
      await x.heartbeat(watchdog('firing'));
      expect(x.sw.status().state, 'no cluster label').to.equal('waiting');
      await x.heartbeat({ ...watchdog(), alerts: watchdog().alerts.map((a) => ({ ...a, labels: { alertname: 'DeadMansSwitch', cluster: 'eu' } })) });
      expect(x.sw.status().state).to.equal('ok');
      await x.advance(MIN);
      expect(x.pages()[0]?.msg.alerts[0]?.annotations['summary']).to.equal('Alertmanager heartbeat missing: no heartbeat for 1m');
    });

    it('resolves right after a page when a heartbeat arrives while the page is being sent', async () => {
      const x = setup();
      await x.start();
      await x.heartbeat();
      const release = x.hold();
      await x.clock.advance(5 * MIN, async () => {
        // The timer fired and the page is on its way: a heartbeat comes in before it is accepted.
        await new Promise((resolve) => setImmediate(resolve));
        x.sw.observe(watchdog());
        release();
        await x.sw.idle();
      });
      expect(x.sent.map((s) => s.msg.status)).to.deep.equal(['firing', 'resolved']);
      expect(x.sw.status().state).to.equal('ok');
    });
  });

  describe('restarts', () => {
    it('does not page again after a restart in the middle of an outage, and resolves on the heartbeat', async () => {
      const x = setup();
      await x.start();
      await x.heartbeat();
      await x.advance(6 * MIN);
      expect(x.pages()).to.have.length(1);
      await x.restart(2 * MIN);
      expect(x.sw.status()).to.deep.include({ state: 'firing', pageOpenSince: new Date(T0 + 5 * MIN).toISOString(), pageTargets: ['pager'] });
      expect(x.gauges.firing).to.equal(1);
      await x.advance(60 * MIN);
      expect(x.pages(), 'still one page').to.have.length(1);
      await x.heartbeat();
      expect(x.resolves()).to.have.length(1);
      expect(x.resolves()[0]?.targets).to.deep.equal(['pager']);
    });

    it('still pages after a restart during the silence, counting from the last heartbeat but not before timeout after the start', async () => {
      const x = setup();
      await x.start();
      await x.heartbeat();
      await x.advance(2 * MIN);
      await x.restart(1 * MIN); // back at T0+3m; the heartbeat's deadline T0+5m is earlier than start+5m
      expect(x.sw.status()).to.deep.include({ state: 'ok', lastHeartbeatAt: new Date(T0).toISOString(), deadlineAt: new Date(T0 + 8 * MIN).toISOString() });
      expect(x.gauges.lastHeartbeat).to.equal(T0 / 1000);
      await x.advance(5 * MIN - 1);
      expect(x.pages()).to.have.length(0);
      await x.advance(1);
      expect(x.pages()).to.have.length(1);
      expect(x.pages()[0]?.msg.alerts[0]?.annotations['description']).to.include(new Date(T0).toISOString());
    });

    it('does not page at start for a heartbeat that is old only because alertmux itself was down', async () => {
      const x = setup();
      await x.start();
      await x.heartbeat();
      await x.restart(60 * MIN);
      await x.advance(MIN);
      await x.heartbeat();
      await x.advance(4 * MIN);
      expect(x.sent).to.have.length(0);
    });

    it('keeps the last heartbeat to the second: heartbeats less than 1s apart are written once', async () => {
      const x = setup();
      await x.start();
      await x.heartbeat();
      const written = () => Number(x.ledger.rows.get(DEADMAN_HEARTBEAT_KEY)?.value);
      await x.advance(500);
      await x.heartbeat();
      expect(written()).to.equal(T0);
      await x.advance(500);
      await x.heartbeat();
      expect(written()).to.equal(T0 + 1000);
      expect(x.ledger.rows.get(DEADMAN_HEARTBEAT_KEY)?.expiresAt, 'never pruned').to.equal(Number.MAX_SAFE_INTEGER);
    });

    it('starts afresh, saying so, when its stored state cannot be read', async () => {
      const x = setup();
      x.ledger.stateSet(DEADMAN_STATE_KEY, '{"page": {"since": "yesterday"}}', Number.MAX_SAFE_INTEGER);
      await x.start();
      expect(x.sw.status().state).to.equal('waiting');
      expect(x.lines.find((l) => l.message.includes('stored state cannot be read'))).to.deep.include({ level: 'error' });
    });

    it('keeps running when the ledger cannot record its state', async () => {
      const x = setup();
      x.ledger.stateSet = () => {
        throw new Error('SQLITE_FULL: database or disk is full');
      };
      await x.start();
      await x.heartbeat();
      await x.advance(5 * MIN);
      expect(x.pages()).to.have.length(1);
      expect(x.lines.some((l) => l.level === 'error' && l.message.includes('cannot record its state'))).to.equal(true);
    });
  });

  describe('failures and reloads', () => {
    it('tries a page that was not accepted again, and pages once', async () => {
      const x = setup();
      await x.start();
      await x.heartbeat();
      x.failNext(2);
      await x.advance(5 * MIN);
      expect(x.pages()).to.have.length(0);
      expect(x.sw.status()).to.deep.include({ state: 'ok', lastError: 'cannot record the notification: SQLITE_FULL' });
      expect(x.lines.filter((l) => l.message.includes('was not accepted'))).to.have.length(1);
      await x.advance(10_000);
      expect(x.pages()).to.have.length(0);
      await x.advance(10_000);
      expect(x.pages()).to.have.length(1);
      expect(x.sw.status()).to.deep.include({ state: 'firing', lastError: null });
    });

    it('tries a resolve that was not accepted again', async () => {
      const x = setup();
      await x.start();
      await x.heartbeat();
      await x.advance(5 * MIN);
      x.failNext(1);
      await x.heartbeat();
      expect(x.resolves()).to.have.length(0);
      expect(x.sw.status().state).to.equal('firing');
      await x.advance(10_000);
      expect(x.resolves()).to.have.length(1);
    });

    it('takes a new timeout and new targets on reload; the resolve goes where the page went', async () => {
      const x = setup();
      await x.start();
      await x.heartbeat();
      await x.sw.configure(deadmanSettings({ match: ['alertname="Watchdog"'], timeout: 10 * MIN, targets: ['slack'] }));
      expect(x.lines.some((l) => l.message === "dead man's switch changed")).to.equal(true);
      await x.advance(5 * MIN);
      expect(x.pages()).to.have.length(0);
      await x.advance(5 * MIN);
      expect(x.pages()[0]?.targets).to.deep.equal(['slack']);
      await x.sw.configure(deadmanSettings({ match: ['alertname="Watchdog"'], timeout: 10 * MIN, targets: ['pager'] }));
      await x.heartbeat();
      expect(x.resolves()[0]?.targets).to.deep.equal(['slack']);
    });

    it('resolves an open page when a reload lengthens the timeout past the silence', async () => {
      const x = setup();
      await x.start();
      await x.heartbeat();
      await x.advance(6 * MIN);
      await x.sw.configure(deadmanSettings({ match: ['alertname="Watchdog"'], timeout: 30 * MIN, targets: ['pager'] }));
      expect(x.resolves()).to.have.length(1);
      await x.advance(24 * MIN);
      expect(x.pages()).to.have.length(2);
    });

    it('resolves an open page and forgets its state when the block is removed', async () => {
      const x = setup();
      await x.start();
      await x.heartbeat();
      await x.advance(5 * MIN);
      await x.sw.configure(undefined);
      expect(x.resolves()).to.have.length(1);
      expect(x.lines.find((l) => l.message.includes('switch turned off; page resolved'))).to.not.equal(undefined);
      expect(x.ledger.rows.has(DEADMAN_STATE_KEY)).to.equal(false);
      expect(x.sw.status()).to.deep.include({ enabled: false, state: 'disabled', lastHeartbeatAt: null });
      expect(x.gauges).to.deep.equal({ lastHeartbeat: 0, firing: 0 });
      x.sw.observe(watchdog());
      await x.advance(60 * MIN);
      expect(x.pages()).to.have.length(1);
      // On again: it waits for a first heartbeat.
      await x.start();
      expect(x.sw.status().state).to.equal('waiting');
    });

    it('resolves a page left open by a previous run whose config no longer has the block', async () => {
      const x = setup();
      await x.start();
      await x.heartbeat();
      await x.advance(5 * MIN);
      await x.restart(MIN, 'off');
      expect(x.resolves()).to.have.length(1);
      expect(x.ledger.rows.has(DEADMAN_STATE_KEY)).to.equal(false);
      expect(x.ledger.rows.has(DEADMAN_HEARTBEAT_KEY)).to.equal(false);
    });

    it('counts a resolve whose targets are all gone as done', async () => {
      const x = setup();
      await x.start();
      await x.heartbeat();
      await x.advance(5 * MIN);
      x.setConfigured([]);
      await x.sw.configure(undefined);
      expect(x.sw.status().state).to.equal('disabled');
      expect(x.lines.find((l) => l.message.includes('page resolved'))?.meta).to.deep.include({ note: 'none of its targets is configured any more' });
    });

    it('reports a page with no configured target as not accepted', async () => {
      const x = setup();
      x.setConfigured([]);
      await x.start();
      await x.heartbeat();
      await x.advance(5 * MIN);
      expect(x.sw.status().lastError).to.equal('none of its targets is configured (pager)');
    });

    it('stops its timers on stop', async () => {
      const x = setup();
      await x.start();
      await x.heartbeat();
      await x.sw.stop();
      expect(x.clock.timers.size).to.equal(0);
      x.sw.observe(watchdog());
      await x.advance(60 * MIN);
      expect(x.sent).to.have.length(0);
    });
  });

  describe('status', () => {
    it('describes a switch that is off', () => {
      const x = setup();
      expect(x.sw.status()).to.deep.equal({
        enabled: false,
        state: 'disabled',
        match: [],
        timeout: null,
        timeoutSeconds: null,
        targets: [],
        lastHeartbeatAt: null,
        deadlineAt: null,
        pageOpenSince: null,
        pageTargets: [],
        lastError: null,
      });
    });

    it('describes a firing switch', async () => {
      const x = setup();
      await x.start();
      await x.heartbeat();
      await x.advance(5 * MIN);
      expect(x.sw.status()).to.deep.equal({
        enabled: true,
        state: 'firing',
        match: ['alertname="Watchdog"'],
        timeout: '5m',
        timeoutSeconds: 300,
        targets: ['pager'],
        lastHeartbeatAt: new Date(T0).toISOString(),
        deadlineAt: null,
        pageOpenSince: new Date(T0 + 5 * MIN).toISOString(),
        pageTargets: ['pager'],
        lastError: null,
      });
    });
  });

  describe('stored state', () => {
    it('reads back what it wrote and rejects a malformed page', () => {
      const page = { since: 2, lastHeartbeatAt: 1, timeout: 300_000, match: ['alertname="Watchdog"'], targets: ['pager'] };
      expect(parseState(JSON.stringify({ lastHeartbeatAt: 1, page }))).to.deep.equal({ lastHeartbeatAt: 1, page });
      expect(parseState('{"lastHeartbeatAt": -5}')).to.deep.equal({});
      expect(() => parseState(JSON.stringify({ page: { ...page, targets: 'pager' } }))).to.throw(/malformed/);
      expect(() => parseState('not json')).to.throw();
    });

    it('labels its page with a stable fingerprint', () => {
      const facts = { since: T0, lastHeartbeatAt: T0 - 5 * MIN, timeout: 5 * MIN, match: ['alertname="Watchdog"'] };
      const firing = pageMessage('firing', facts, T0);
      const resolved = pageMessage('resolved', facts, T0 + MIN);
      expect(firing.alerts[0]?.fingerprint).to.equal(resolved.alerts[0]?.fingerprint).and.to.match(/^[0-9a-f]{16}$/);
      expect(firing.commonLabels).to.deep.equal(DEADMAN_LABELS);
      expect(firing.alerts[0]?.endsAt).to.equal('0001-01-01T00:00:00Z');
    });
  });
});
