import { mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, writeFileSync, existsSync, unlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { createFilePublisher, type FileTarget } from '../../src/publishers/file.js';
import { createEnricher } from '../../src/alerts/enrich.js';
import { ctx, fixture, mockDeps } from '../helpers/fixtures.js';
import type { TargetMessage } from '../../src/alerts/types.js';
import type { Publisher } from '../../src/publishers/publisher.js';

function target(path: string, overrides: Partial<FileTarget> = {}): FileTarget {
  return { name: 'jsonl', type: 'file', enabled: true, match: [], send_resolved: true, path, format: 'alertmux', ...overrides };
}

function groupMessage(name = 'am025-grouped-firing.json'): TargetMessage {
  const original = fixture(name);
  return { original, message: createEnricher({ labels: { cluster: 'prod' }, severity_map: {}, links: {}, silence_link: false })(original) };
}

const lines = (path: string) =>
  readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);

/** How many descriptors this process holds open on `path` (Linux), or undefined where /proc is absent. */
function openHandles(path: string): number | undefined {
  if (!existsSync('/proc/self/fd')) return undefined;
  let n = 0;
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`) === path) n++;
    } catch {
      // closed meanwhile
    }
  }
  return n;
}

describe('file publisher', () => {
  let dir: string;
  let publisher: Publisher | undefined;
  const now = Date.parse('2026-11-22T23:00:00Z');
  const deps = mockDeps(() => now);

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'alertmux-file-'));
  });
  afterEach(async () => {
    await publisher?.close?.();
    publisher = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  it('appends one JSON line per group, creating the directory', async () => {
    const path = join(dir, 'a', 'b', 'deliveries.jsonl');
    publisher = createFilePublisher(target(path), deps);
    expect(await publisher.publish(groupMessage(), ctx({ deliveryId: 'd_1' }))).to.deep.equal({ ok: true });
    expect(await publisher.publish(groupMessage('am025-all-resolved.json'), ctx({ deliveryId: 'd_2' }))).to.deep.equal({ ok: true });
    const written = lines(path);
    expect(written).to.have.length(2);
    expect(written[0]).to.deep.include({ time: '2026-11-22T23:00:00.000Z', target: 'jsonl', deliveryId: 'd_1', status: 'firing' });
    expect(written[1]).to.deep.include({ deliveryId: 'd_2', status: 'resolved' });
    expect(readFileSync(path, 'utf8').endsWith('}\n')).to.equal(true);
  });

  it('writes the enriched group with format alertmux and the original with format alertmanager', async () => {
    const msg = groupMessage();
    publisher = createFilePublisher(target(join(dir, 'mux.jsonl')), deps);
    await publisher.publish(msg, ctx());
    const am = createFilePublisher(target(join(dir, 'am.jsonl'), { format: 'alertmanager' }), deps);
    await am.publish(msg, ctx());
    await am.close?.();
    const { time: _t1, target: _g1, deliveryId: _d1, ...mux } = lines(join(dir, 'mux.jsonl'))[0]!;
    const { time: _t2, target: _g2, deliveryId: _d2, ...original } = lines(join(dir, 'am.jsonl'))[0]!;
    expect(mux).to.deep.equal(msg.message);
    expect(original).to.deep.equal(msg.original);
  });

  it('appends to what the file already holds', async () => {
    const path = join(dir, 'd.jsonl');
    writeFileSync(path, '{"earlier":true}\n');
    publisher = createFilePublisher(target(path), deps);
    await publisher.publish(groupMessage(), ctx());
    expect(lines(path).map((l) => Object.keys(l)[0])).to.deep.equal(['earlier', 'time']);
  });

  it('keeps lines whole when groups are written at once', async () => {
    const path = join(dir, 'd.jsonl');
    publisher = createFilePublisher(target(path), deps);
    const outcomes = await Promise.all(Array.from({ length: 50 }, (_, i) => publisher!.publish(groupMessage(), ctx({ deliveryId: `d_${i}` }))));
    expect(outcomes.every((o) => o.ok)).to.equal(true);
    expect(lines(path).map((l) => l['deliveryId']).sort()).to.deep.equal(Array.from({ length: 50 }, (_, i) => `d_${i}`).sort());
  });

  it('releases the file handle on close and opens it again on the next group', async () => {
    const path = join(dir, 'd.jsonl');
    publisher = createFilePublisher(target(path), deps);
    await publisher.publish(groupMessage(), ctx());
    const before = openHandles(path);
    if (before !== undefined) expect(before).to.equal(1);
    await publisher.close!();
    const after = openHandles(path);
    if (after !== undefined) expect(after).to.equal(0);
    // Rotated away: the next group goes to a new file at the same path.
    unlinkSync(path);
    await publisher.publish(groupMessage(), ctx({ deliveryId: 'after-close' }));
    expect(lines(path).map((l) => l['deliveryId'])).to.deep.equal(['after-close']);
    await publisher.close!();
    await publisher.close!(); // closing twice is harmless
  });

  it('gives a retryable outcome when the file cannot be written, and recovers once it can', async () => {
    const blocker = join(dir, 'not-a-dir');
    writeFileSync(blocker, 'a file where a directory should be');
    const path = join(blocker, 'd.jsonl');
    publisher = createFilePublisher(target(path), deps);
    const outcome = await publisher.publish(groupMessage(), ctx());
    expect(outcome).to.deep.include({ ok: false, retryable: true, reason: 'other' });
    expect(outcome.ok ? '' : outcome.message).to.equal(`cannot append to ${path}: EEXIST`);
    unlinkSync(blocker);
    expect(await publisher.publish(groupMessage(), ctx({ deliveryId: 'retry' }))).to.deep.equal({ ok: true });
    expect(lines(path).map((l) => l['deliveryId'])).to.deep.equal(['retry']);
  });

  it('names its type and target', () => {
    publisher = createFilePublisher(target(join(dir, 'x.jsonl')), deps);
    expect([publisher.type, publisher.name]).to.deep.equal(['file', 'jsonl']);
  });
});
