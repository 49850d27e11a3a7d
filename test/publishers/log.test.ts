import { Writable } from 'node:stream';
import { expect } from 'chai';
import winston from 'winston';
import { createLogPublisher, type LogTarget } from '../../src/publishers/log.js';
import { ctx, fixture, mockDeps } from '../helpers/fixtures.js';

/** A winston logger whose JSON lines are kept in `lines`. */
function capturingLogger(level = 'debug') {
  const lines: Array<Record<string, unknown>> = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(JSON.parse(chunk.toString('utf8')) as Record<string, unknown>);
      done();
    },
  });
  const logger = winston.createLogger({ level, format: winston.format.json(), transports: [new winston.transports.Stream({ stream })] });
  return { logger, lines };
}

function target(overrides: Partial<LogTarget> = {}): LogTarget {
  return { name: 'log', type: 'log', enabled: true, match: [], send_resolved: true, level: 'info', ...overrides };
}

/** winston writes through a stream: let it flush. */
const flush = () => new Promise((resolve) => setImmediate(resolve));

describe('log publisher', () => {
  it('logs one line per group with the group key, counts and alert names', async () => {
    const { logger, lines } = capturingLogger();
    const publisher = createLogPublisher(target(), { ...mockDeps(), logger });
    const msg = fixture('am025-mixed-firing-resolved.json');
    expect(await publisher.publish({ message: msg, original: msg }, ctx())).to.deep.equal({ ok: true });
    await flush();
    expect(lines).to.have.length(1);
    const firing = msg.alerts.filter((a) => a.status === 'firing').length;
    expect(lines[0]).to.deep.equal({
      level: 'info',
      message: 'alert group',
      target: 'log',
      receiver: msg.receiver,
      groupKey: msg.groupKey,
      status: msg.status,
      firing,
      resolved: msg.alerts.length - firing,
      alertnames: [...new Set(msg.alerts.map((a) => a.labels['alertname']))],
    });
    expect(firing).to.be.greaterThan(0);
    expect(msg.alerts.length - firing).to.be.greaterThan(0);
  });

  it('names each alert name once', async () => {
    const { logger, lines } = capturingLogger();
    const msg = fixture('am025-grouped-firing.json');
    await createLogPublisher(target(), { ...mockDeps(), logger }).publish({ message: msg, original: msg }, ctx());
    await flush();
    const names = lines[0]!['alertnames'] as string[];
    expect(names).to.deep.equal([...new Set(names)]);
    expect(names).to.include(msg.alerts[0]!.labels['alertname']);
  });

  it('logs the alertmux view of the group, not the original', async () => {
    const { logger, lines } = capturingLogger();
    const original = fixture();
    const message = { ...original, groupKey: 'enriched-key' };
    await createLogPublisher(target(), { ...mockDeps(), logger }).publish({ message, original }, ctx());
    await flush();
    expect(lines[0]!['groupKey']).to.equal('enriched-key');
  });

  it('logs at the configured level', async () => {
    const { logger, lines } = capturingLogger('warn');
    const msg = fixture();
    await createLogPublisher(target({ name: 'quiet', level: 'info' }), { ...mockDeps(), logger }).publish({ message: msg, original: msg }, ctx());
    await createLogPublisher(target({ name: 'loud', level: 'error' }), { ...mockDeps(), logger }).publish({ message: msg, original: msg }, ctx());
    await flush();
    expect(lines.map((l) => [l['target'], l['level']])).to.deep.equal([['loud', 'error']]);
  });
});
