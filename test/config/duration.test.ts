import { expect } from 'chai';
import { formatDuration, parseDuration } from '../../src/config/duration.js';

describe('Prometheus-style durations', () => {
  const valid: Array<[string, number]> = [
    ['0', 0],
    ['0s', 0],
    ['500ms', 500],
    ['30s', 30_000],
    ['5m', 300_000],
    ['1h30m', 5_400_000],
    ['1h30m15s250ms', 5_415_250],
    ['7d', 604_800_000],
    ['2w', 1_209_600_000],
    ['1y', 31_536_000_000],
  ];
  for (const [text, ms] of valid) {
    it(`reads ${text} as ${ms} ms`, () => {
      expect(parseDuration(text)).to.equal(ms);
    });
  }

  for (const text of ['', '10 seconds', '1.5h', '30', '-5s', '1m1h', '5mm', 's', '1h 30m', '5S']) {
    it(`rejects ${JSON.stringify(text)}`, () => {
      expect(parseDuration(text)).to.equal(undefined);
    });
  }

  it('formats milliseconds as the shortest duration text', () => {
    expect(formatDuration(0)).to.equal('0s');
    expect(formatDuration(500)).to.equal('500ms');
    expect(formatDuration(90_000)).to.equal('1m30s');
    expect(formatDuration(5_400_000)).to.equal('1h30m');
    expect(formatDuration(86_400_000)).to.equal('1d');
    expect(formatDuration(604_800_000)).to.equal('1w');
  });

  it('reads back what it formats', () => {
    for (const ms of [1, 999, 1000, 61_001, 3_600_000, 90_061_001, 31_536_000_000 + 1]) {
      expect(parseDuration(formatDuration(ms)), String(ms)).to.equal(ms);
    }
  });
});
