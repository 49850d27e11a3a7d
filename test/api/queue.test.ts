import { expect } from 'chai';
import { recordingLogger } from '../helpers/logs.js';
import { byMode, config, group } from '../helpers/console.js';
import { loopbackTarget, startApp, type LoopbackTarget, type TestApp } from '../helpers/servers.js';

const ADMIN = { authorization: 'Bearer adm-7f3e' };
const T0 = Date.parse('2026-11-22T10:00:00Z');

describe('the delivery queue routes: filters, cursor, replay by time, bulk delete', () => {
  let hook: LoopbackTarget;
  let app: TestApp;
  let clock: number;
  let logs: ReturnType<typeof recordingLogger>;
  const ids = async (query: string) => {
    const res = await app.get(`/api/v1/deliveries${query}`, ADMIN);
    expect(res.status, res.text).to.equal(200);
    return res.body as { deliveries: Array<{ id: string; groupKey: string; state: string }>; nextCursor: string | null };
  };
  const groups = async (query: string) => (await ids(query)).deliveries.map((d) => /group="(\w+)"/.exec(d.groupKey)?.[1]);

  beforeEach(async () => {
    clock = T0;
    hook = await loopbackTarget(byMode);
    logs = recordingLogger();
    app = await startApp(config(hook.url), { now: () => clock, logger: logs.logger });
    // Dead letters (400) at T0+1..3 s, one pending retry (503) at T0+4 s; only `hook` takes them.
    for (const [name, mode] of [['a', '400'], ['b', '400'], ['c', '400'], ['d', '503']] as const) {
      clock += 1000;
      await app.post('/webhook', group(name, [{ alertname: name, team: 'db', mode, route: 'hook-only' }]));
    }
    await app.mux.dispatcher.idle();
  });

  afterEach(async () => {
    await app.close();
    await hook.close();
  });

  it('filters deliveries by time, reason and state, newest first', async () => {
    expect(await groups('?target=hook')).to.deep.equal(['d', 'c', 'b', 'a']);
    expect(await groups('?state=dead&since=2s')).to.deep.equal(['c', 'b']);
    expect(await groups(`?target=hook&until=${new Date(T0 + 2000).toISOString()}`)).to.deep.equal(['b', 'a']);
    expect(await groups('?reason=serverError')).to.deep.equal(['d']);
    expect(await groups('?reason=clientError&state=dead')).to.deep.equal(['c', 'b', 'a']);
  });

  it('pages deliveries with a cursor', async () => {
    const first = await ids('?target=hook&limit=3');
    expect(first.deliveries).to.have.length(3);
    expect(first.nextCursor).to.be.a('string');
    clock += 1000;
    await app.post('/webhook', group('e', [{ alertname: 'e', team: 'db', route: 'hook-only' }]));
    const second = await ids(`?target=hook&limit=3&cursor=${first.nextCursor}`);
    expect(second.deliveries.map((d) => /group="(\w+)"/.exec(d.groupKey)?.[1])).to.deep.equal(['a']);
    expect(second.nextCursor).to.equal(null);
    expect((await app.get('/api/v1/deliveries?cursor=abc', ADMIN)).status).to.equal(400);
    expect((await app.get('/api/v1/deliveries?since=soon', ADMIN)).body.error).to.match(/query parameter since must be an RFC 3339 time/);
  });

  it('replays the dead letters of a target since a time', async () => {
    hook.reply = () => ({ status: 200 });
    const res = await app.post('/api/v1/deliveries/replay', { target: 'hook', state: 'dead', since: new Date(T0 + 2000).toISOString() }, ADMIN);
    expect(res.status).to.equal(202);
    expect(res.body.replayed).to.equal(2);
    expect((await app.post('/api/v1/deliveries/replay', { since: 'later' }, ADMIN)).body.error).to.match(/since must be an RFC 3339 time/);
  });

  it('deletes many by ids or by filter, and logs who did', async () => {
    const dead = (await ids('?state=dead')).deliveries;
    const byIds = await app.post('/api/v1/deliveries/delete', { ids: [dead[0]!.id] }, ADMIN);
    expect(byIds.status).to.equal(200);
    expect(byIds.body).to.deep.equal({ deleted: 1 });
    const byFilter = await app.post('/api/v1/deliveries/delete', { target: 'hook', since: new Date(T0 + 1000).toISOString() }, ADMIN);
    expect(byFilter.body).to.deep.equal({ deleted: 2 });
    expect(await groups('?target=hook')).to.deep.equal(['d']);
    const line = logs.lines.find((l) => l.message === 'deliveries deleted by an operator' && l.meta['target'] === 'hook');
    expect(line?.meta).to.deep.include({ remote: '127.0.0.1', deleted: 2, target: 'hook', since: new Date(T0 + 1000).toISOString() });
    expect((await app.post('/api/v1/deliveries/delete', { state: 'pending' }, ADMIN)).body).to.deep.equal({ deleted: 1 });
  });

  it('refuses a bulk delete without a filter or with a bad one', async () => {
    const cases: Array<[unknown, RegExp]> = [
      [{}, /give a filter/],
      [{ state: 'delivered' }, /state must be dead or pending/],
      [{ ids: [] }, /ids must be an array of 1 to 1000 delivery ids/],
      [{ target: 5 }, /target must be a target name/],
      [{ since: 'yesterday' }, /since must be an RFC 3339 time/],
      [{ everything: true }, /unknown field\(s\) everything/],
    ];
    for (const [body, message] of cases) {
      const res = await app.post('/api/v1/deliveries/delete', body, ADMIN);
      expect(res.status, JSON.stringify(body)).to.equal(400);
      expect(res.body.error).to.match(message);
    }
    expect((await app.post('/api/v1/deliveries/delete', { state: 'dead' })).status).to.equal(401);
    expect(await groups('?target=hook')).to.have.length(4);
  });
});
