/** Targets: source, health history, breaker, last success/error; check now, try now, pause/resume, test alert. */
import { api } from '../api.js';
import { usePoll } from '../poll.js';
import type { Route } from '../router.js';
import { Badge, ErrorNote, Freshness, Link, ReadOnlyNote, useAction, useSession, When } from '../ui.js';
import type { Target } from '../types.js';

/** A test alert like `alertmux send-test`'s: the same labels every time, so it groups (and resolves) as one. */
function testMessage(now: number) {
  const labels = { alertname: 'AlertmuxTest', severity: 'warning', source: 'alertmux-console' };
  const annotations = { summary: 'Test alert from the alertmux console: this target is reachable', description: 'Sent from the alertmux console to check a target. It is not a real incident.' };
  return {
    version: '4',
    groupKey: '{}:{alertname="AlertmuxTest"}',
    truncatedAlerts: 0,
    status: 'firing',
    receiver: 'alertmux-console',
    groupLabels: { alertname: labels.alertname },
    commonLabels: labels,
    commonAnnotations: annotations,
    externalURL: '',
    alerts: [{ status: 'firing', labels, annotations, startsAt: new Date(now).toISOString(), endsAt: '0001-01-01T00:00:00Z', generatorURL: '' }],
  };
}

const breakerState = (b: Target['breaker']) => (typeof b === 'string' ? b : b.state);

function Source({ source }: { source?: Target['source'] }) {
  if (!source) return <span class="muted">not available</span>;
  const where =
    source.kind === 'kubernetes'
      ? `Kubernetes Secret ${source.secret ?? ''}`
      : source.kind === 'targets_dir'
        ? `targets_dir file ${source.file ?? ''}`
        : source.kind === 'config'
          ? `config file${source.file ? ` ${source.file}` : ''}`
          : source.kind;
  return <span>{where}</span>;
}

function TargetCard({ t, refresh }: { t: Target; refresh(): void }) {
  const session = useSession();
  const [busy, run] = useAction();
  const path = `/api/v1/targets/${encodeURIComponent(t.name)}`;
  const act = (what: () => Promise<string>) => run(async () => {
    const text = await what();
    refresh();
    return text;
  });
  const check = () => act(async () => {
    const r = await api<{ ok?: boolean; probed?: boolean; detail: string }>(`${path}/check`, { method: 'POST' });
    if (r.probed === false) return `${t.name}: ${r.detail}`;
    return `${t.name}: health check ${r.ok ? 'passed' : 'failed'}: ${r.detail}`;
  });
  const tryNow = () => act(async () => {
    const r = await api<{ tried: boolean; detail?: string; result?: { ok: boolean; state: string; statusCode?: number; error?: string } }>(`${path}/try`, { method: 'POST' });
    if (!r.tried || !r.result) return `${t.name}: not tried: ${r.detail ?? 'nothing queued'}`;
    const x = r.result;
    return `${t.name}: tried its oldest queued delivery: ${x.ok ? 'delivered' : `failed${x.statusCode ? ` (${x.statusCode})` : ''}${x.error ? `: ${x.error}` : ''}`}`;
  });
  const pause = (on: boolean) => act(async () => {
    await api(`${path}/${on ? 'pause' : 'resume'}`, { method: 'POST' });
    return on ? `${t.name} paused: its deliveries queue until it is resumed.` : `${t.name} resumed.`;
  });
  const test = () => act(async () => {
    const r = await api<{ outcome: string; targets: Array<{ state: string; error?: string }> }>('/api/v1/publish/parallel', {
      method: 'POST',
      body: { message: testMessage(Date.now()), targets: [t.name], strategy: 'publish_to_all' },
    });
    const first = r.targets[0];
    return `${t.name}: test alert ${r.outcome}${first?.error ? `: ${first.error}` : ''}`;
  });
  const history = [...(t.healthHistory ?? [])].reverse().slice(0, 10);
  return (
    <article class="target-card" aria-labelledby={`t-${t.name}`} data-target={t.name}>
      <header>
        <h2 id={`t-${t.name}`}>{t.name}</h2>
        <span class="muted">{t.type}</span>
        <Badge value={t.health} label="health" /> <Badge value={breakerState(t.breaker)} label="breaker" />
        {t.paused ? <Badge value="paused" /> : null}
        {!t.enabled ? <Badge value="disabled" /> : null}
      </header>
      <dl class="facts">
        <div>
          <dt>Source</dt>
          <dd>
            <Source source={t.source} />
          </dd>
        </div>
        <div>
          <dt>Last success</dt>
          <dd>
            <When at={t.lastSuccessAt} />
          </dd>
        </div>
        <div>
          <dt>Last error</dt>
          <dd>
            {t.lastError ? (
              <>
                <When at={t.lastError.at} />: <span class="excerpt">{t.lastError.message}</span>
              </>
            ) : (
              '—'
            )}
          </dd>
        </div>
      </dl>
      {session.actions ? (
        <div class="actions" role="group" aria-label={`Actions for ${t.name}`}>
          <button type="button" disabled={busy} onClick={check}>
            Check now
          </button>
          <button type="button" disabled={busy} onClick={tryNow}>
            Try now
          </button>
          {t.paused ? (
            <button type="button" disabled={busy} onClick={() => pause(false)}>
              Resume
            </button>
          ) : (
            <button type="button" disabled={busy} onClick={() => pause(true)}>
              Pause
            </button>
          )}
          <button type="button" disabled={busy} onClick={test}>
            Send test alert
          </button>
        </div>
      ) : null}
      <details open={history.length > 0}>
        <summary>Health history</summary>
        {t.healthHistory === undefined ? (
          <p class="muted">not available</p>
        ) : history.length === 0 ? (
          <p class="muted">No change since start.</p>
        ) : (
          <ol class="history">
            {history.map((h, i) => (
              <li key={`${h.at}-${i}`}>
                <When at={h.at} />: {h.from} → <Badge value={h.to} />
                {h.reason ? <span class="muted"> ({h.reason})</span> : null}
              </li>
            ))}
          </ol>
        )}
      </details>
      <p>
        <Link to={`/notifications?target=${encodeURIComponent(t.name)}`}>Notifications</Link> ·{' '}
        <Link to={`/deliveries?state=dead&target=${encodeURIComponent(t.name)}`}>Dead letters</Link> ·{' '}
        <Link to={`/deliveries?state=pending&target=${encodeURIComponent(t.name)}`}>Queue</Link>
      </p>
    </article>
  );
}

/** The Targets screen (`?name=` shows one). */
export function Targets({ route }: { route: Route }) {
  const polled = usePoll('targets', () => api<{ targets: Target[] }>('/api/v1/targets'));
  const only = route.params.get('name');
  const list = (polled.data?.targets ?? []).filter((t) => !only || t.name === only);
  return (
    <section aria-labelledby="page-title">
      <h1 id="page-title" tabIndex={-1}>
        Targets
      </h1>
      {only ? (
        <p>
          Showing {only}. <Link to="/targets">All targets</Link>
        </p>
      ) : null}
      <Freshness at={polled.at} error={polled.error} />
      <ErrorNote error={polled.error} what="Targets" />
      <ReadOnlyNote />
      <div class="cards">
        {list.map((t) => (
          <TargetCard key={t.name} t={t} refresh={polled.refresh} />
        ))}
      </div>
    </section>
  );
}
