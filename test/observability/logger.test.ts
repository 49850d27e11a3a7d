import { expect } from 'chai';
import { Writable } from 'node:stream';
import winston from 'winston';
import { createLogger } from '../../src/observability/logger.js';

describe('the logger', () => {
  it('knows which levels are enabled, and follows a level change at once, children included', () => {
    const logger = createLogger('info') as winston.Logger;
    const child = logger.child({ component: 'x' });
    expect(['debug', 'info', 'warn', 'error'].map((l) => logger.isLevelEnabled(l))).to.deep.equal([false, true, true, true]);
    expect(child.isLevelEnabled('debug')).to.equal(false);
    logger.level = 'debug';
    expect(logger.isLevelEnabled('debug')).to.equal(true);
    logger.level = 'error';
    expect(['debug', 'info', 'warn', 'error'].map((l) => logger.isLevelEnabled(l))).to.deep.equal([false, false, false, true]);
  });

  it('writes enabled levels to its transport and drops the others before they reach it', () => {
    const logger = createLogger('warn') as winston.Logger;
    const seen: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        seen.push(JSON.parse(chunk.toString()).message as string);
        done();
      },
    });
    logger.clear().add(new winston.transports.Stream({ stream: sink }));
    logger.info('quiet');
    logger.debug('quieter');
    logger.warn('loud');
    logger.child({ a: 1 }).error('louder');
    expect(seen).to.deep.equal(['loud', 'louder']);
  });

  it("puts its default meta (the replica's name) into every line, children's too", () => {
    const logger = createLogger('info', { replica: 'pod-a' }) as winston.Logger;
    const seen: Array<Record<string, unknown>> = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        const { timestamp: _timestamp, ...line } = JSON.parse(chunk.toString()) as Record<string, unknown>;
        seen.push(line);
        done();
      },
    });
    logger.clear().add(new winston.transports.Stream({ stream: sink }));
    logger.info('one', { target: 't' });
    logger.child({ component: 'http' }).warn('two');
    expect(seen).to.deep.equal([
      { level: 'info', message: 'one', target: 't', replica: 'pod-a' },
      { level: 'warn', message: 'two', component: 'http', replica: 'pod-a' },
    ]);
  });
});
