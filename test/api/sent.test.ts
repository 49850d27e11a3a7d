import { expect } from 'chai';
import { fixture } from '../helpers/fixtures.js';
import { loopbackTarget, startApp, type LoopbackTarget, type TestApp } from '../helpers/servers.js';

/**
 * What was sent, rendered on demand: per target of GET /api/v1/notifications/:id, the request its publisher
 * builds from the stored notification, compared with what a loopback double of each vendor actually received
 * for the same delivery. Only the secrets differ: they are `<secret>` in the rendering.
 */

const ADMIN = { authorization: 'Bearer adm-sent-1' };
const S = {
  routingKey: 'PdSentRoutingKeyMRK0000000000001', // 32 characters
  slackHook: 'slackSentHookMRK000002',
  slackBot: 'xoxb-slackSentBotMRK0003',
  hookPath: 'hookSentPathMRK00000004',
  hookHeader: 'hookSentHeaderMRK0005',
  hookBearer: 'hookSentBearerMRK0006',
  teamsSig: 'teamsSentSigMRK0007',
  discord: 'discordSentTokenMRK0008abcdefghijkl',
  rootly: 'rootlySentTokenMRK0009',
  amPassword: 'amSentPwMRK0010',
};

/** Each vendor's success answer, by path. */
function vendor(req: { path: string }) {
  if (req.path.startsWith('/services/')) return { status: 200, body: 'ok', headers: { 'content-type': 'text/plain' } };
  if (req.path.startsWith('/api/chat.')) return { status: 200, body: '{"ok":true,"channel":"C0SENT","ts":"1700000000.000100"}', headers: { 'content-type': 'application/json' } };
  if (req.path.startsWith('/api/webhooks/')) return { status: 204 };
  if (req.path.startsWith('/workflows/')) return { status: 202 };
  return { status: 200, body: '{}', headers: { 'content-type': 'application/json' } };
}

function config(url: string): string {
  return `admin: {bearer_token: adm-sent-1}
storage: {path: ':memory:'}
dispatch: {response_deadline: 5s, timeout: 2s}
targets:
  - {name: hook, type: webhook, format: alertmux, url: "${url}/hook/${S.hookPath}", bearer_token: ${S.hookBearer}, headers: {X-Api-Key: ${S.hookHeader}}}
  - {name: slack-hook, type: slack, webhook_url: "${url}/services/T0SENT/B0SENT/${S.slackHook}"}
  - {name: slack-bot, type: slack, token: ${S.slackBot}, channel: C0SENT, api_url: "${url}/api"}
  - {name: pd, type: pagerduty, routing_key: ${S.routingKey}, url: "${url}/v2/enqueue"}
  - {name: teams, type: teams, webhook_url: "${url}/workflows/abcdef0123456789/triggers/manual/paths/invoke?api-version=2016-06-01&sig=${S.teamsSig}"}
  - {name: discord, type: discord, webhook_url: "${url}/api/webhooks/123456789012345678/${S.discord}", username: alertmux}
  - {name: rootly, type: rootly, token: ${S.rootly}, url: "${url}/rootly"}
  - {name: am, type: alertmanager, url: "${url}/am", basic_auth: {username: fwd, password: ${S.amPassword}}}
  - {name: logs, type: log}
`;
}

interface Sent {
  renderedWith: string;
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: unknown;
  note?: string;
  requests?: unknown[];
}
type Detail = { targets: Array<{ target: string; state: string; sent?: Sent; sentUnavailable?: string }> };

describe('GET /api/v1/notifications/:id: what was sent, per target', function () {
  this.timeout(20_000);
  let vendorDouble: LoopbackTarget;
  let app: TestApp | undefined;

  beforeEach(async () => {
    vendorDouble = await loopbackTarget(vendor);
  });
  afterEach(async () => {
    await app?.close();
    app = undefined;
    await vendorDouble.close();
  });

  const deliver = async () => {
    app = await startApp(config(vendorDouble.url));
    const answer = await app.post('/webhook', fixture());
    expect(answer.status, answer.text).to.be.oneOf([200, 202]);
    await app.mux.dispatcher.idle();
    const res = await app.get(`/api/v1/notifications/${answer.body.id as string}`, ADMIN);
    expect(res.status, res.text).to.equal(200);
    const detail = res.body as Detail;
    return { detail, text: res.text, sent: (name: string) => detail.targets.find((t) => t.target === name) };
  };
  const received = (prefix: string) => {
    const got = vendorDouble.received.filter((r) => r.path.startsWith(prefix));
    expect(got, `requests to ${prefix}`).to.have.length(1);
    return got[0]!;
  };

  it('renders, per kind, the body the vendor double received for the delivery, with the secrets redacted', async () => {
    const { detail, sent } = await deliver();
    for (const t of detail.targets) expect(t.state, t.target).to.equal('succeeded');

    const hook = sent('hook')!.sent!;
    expect(hook.renderedWith).to.equal('current config');
    expect(hook.method).to.equal('POST');
    expect(hook.url).to.equal(`${vendorDouble.url}/hook/<secret>`);
    expect(hook.body).to.deep.equal(received('/hook/').body);
    expect(hook.headers).to.include({ authorization: '<secret>', 'X-Api-Key': '<secret>', 'content-type': 'application/json', 'user-agent': received('/hook/').headers['user-agent'] });

    expect(sent('slack-hook')!.sent!.body).to.deep.equal(received('/services/').body);
    expect(sent('slack-hook')!.sent!.url).to.equal(`${vendorDouble.url}/services/T0SENT/B0SENT/<secret>`);
    expect(sent('teams')!.sent!.url).to.equal(`${vendorDouble.url}/workflows/<secret>/triggers/manual/paths/invoke?api-version=<secret>&sig=<secret>`);
    const bot = sent('slack-bot')!.sent!;
    expect(bot.url).to.equal(`${vendorDouble.url}/api/chat.postMessage`);
    expect(bot.body).to.deep.equal(received('/api/chat.postMessage').body);
    expect(bot.headers['authorization']).to.equal('<secret>');
    expect(bot.note).to.match(/chat\.update/);

    const pd = sent('pd')!.sent!;
    expect(pd.url).to.equal(`${vendorDouble.url}/v2/enqueue`);
    const pdReceived = received('/v2/enqueue').body as Record<string, unknown>;
    expect(pdReceived['routing_key']).to.equal(S.routingKey);
    expect(pd.body).to.deep.equal({ ...pdReceived, routing_key: '<secret>' });

    expect(sent('teams')!.sent!.body).to.deep.equal(received('/workflows/').body);
    expect(sent('discord')!.sent!.body).to.deep.equal(received('/api/webhooks/').body);
    expect(sent('rootly')!.sent!.body).to.deep.equal(received('/rootly').body);
    const am = sent('am')!.sent!;
    expect(am.headers['authorization']).to.equal('<secret>');
    expect(am.note).to.match(/re-posted/);
    // startsAt/endsAt of a post are the alerts' own; the rendering has the same alerts.
    expect(am.body).to.deep.equal(received('/am/api/v2/alerts').body);

    expect(sent('logs')!.sent).to.equal(undefined);
    expect(sent('logs')!.sentUnavailable).to.match(/log target sends no HTTP request/);
  });

  it('shows no secret of any kind in the rendering', async () => {
    const { text } = await deliver();
    const b64 = (s: string) => Buffer.from(s).toString('base64');
    const forms = Object.values(S).flatMap((s) => [s, s.slice(0, 10), encodeURIComponent(s), b64(s)]);
    forms.push(`fwd:${S.amPassword}`, b64(`fwd:${S.amPassword}`));
    for (const f of forms) expect(text, f).not.to.contain(f);
    expect(text).to.contain('<secret>');
  });

  it('says why there is no rendering for a target no longer configured', async () => {
    app = await startApp(config(vendorDouble.url));
    const answer = await app.post('/webhook', fixture());
    await app.mux.dispatcher.idle();
    app.setConfig(`admin: {bearer_token: adm-sent-1}\nstorage: {path: ':memory:'}\ntargets:\n  - {name: logs, type: log}\n`);
    const reloaded = await app.post('/-/reload', undefined, ADMIN);
    expect(reloaded.status, reloaded.text).to.equal(200);
    const res = await app.get(`/api/v1/notifications/${answer.body.id as string}`, ADMIN);
    const hook = (res.body as Detail).targets.find((t) => t.target === 'hook')!;
    expect(hook.sent).to.equal(undefined);
    expect(hook.sentUnavailable).to.equal('target "hook" is no longer configured');
  });
});
