/** Overview: a tile per target, notifications by outcome over time, config status, dead man's switch. */
import { api, ApiError } from '../api.js';
import { OutcomeChart } from '../chart.js';
import { usePoll } from '../poll.js';
import { age } from '../time.js';
import { Badge, ErrorNote, Freshness, Link, When } from '../ui.js';
import type { Overview as OverviewData, Target, Tile } from '../types.js';

const breakerOf = (b: Tile['breaker']) => (typeof b === 'string' ? b : b.state);
const percent = (r?: number | null) => (r === undefined || r === null ? '—' : `${(r * 100).toFixed(r >= 0.9995 || r === 0 ? 0 : 1)}%`);
const ms = (v?: number | null) => (v === undefined || v === null ? '—' : v >= 1000 ? `${(v / 1000).toFixed(1)} s` : `${Math.round(v)} ms`);

/** An older alertmux without /api/v1/overview: tiles from /api/v1/targets, the figures it lacks shown as "—". */
async function fallback(): Promise<{ overview: OverviewData; partial: true }> {
  const { targets } = await api<{ targets: Target[] }>('/api/v1/targets');
  const tiles = targets.map((t): Tile => ({
    name: t.name,
    type: t.type,
    health: t.health,
    breaker: t.breaker,
    paused: t.paused,
    lastError: t.lastError,
    lastSuccessAt: t.lastSuccessAt,
    lastErrorAt: t.lastError?.at,
  }));
  return { overview: { targets: tiles, totals: [], config: {}, deadman: null }, partial: true };
}

/** Asked once: an alertmux without the route will not grow it before the page is reloaded. */
let noOverview = false;

async function load(): Promise<{ overview: OverviewData; partial: boolean }> {
  if (noOverview) return fallback();
  try {
    return { overview: await api<OverviewData>('/api/v1/overview'), partial: false };
  } catch (err) {
    if (err instanceof ApiError && err.unavailable) {
      noOverview = true;
      return fallback();
    }
    throw err;
  }
}

function TileCard({ t }: { t: Tile }) {
  const lastError = typeof t.lastError === 'string' ? t.lastError : t.lastError?.message;
  return (
    <article class="tile" aria-labelledby={`tile-${t.name}`} data-target={t.name}>
      <header>
        <h3 id={`tile-${t.name}`}>
          <Link to={`/targets?name=${encodeURIComponent(t.name)}`}>{t.name}</Link>
        </h3>
        <span class="muted">{t.type}</span>
      </header>
      <p class="badges">
        <Badge value={t.health} label="health" /> <Badge value={breakerOf(t.breaker)} label="breaker" />
        {t.paused ? <Badge value="paused" /> : null}
      </p>
      <dl class="figures">
        <div>
          <dt>Success 1h</dt>
          <dd>{percent(t.successRate1h)}</dd>
        </div>
        <div>
          <dt>p95 1h</dt>
          <dd>{ms(t.p95Ms1h)}</dd>
        </div>
        <div>
          <dt>Queue</dt>
          <dd>{t.queueDepth ?? '—'}</dd>
        </div>
        <div>
          <dt>Oldest pending</dt>
          <dd>{age(t.oldestPendingAgeSeconds)}</dd>
        </div>
        <div>
          <dt>Dead letters</dt>
          <dd>{t.deadLetters === undefined ? '—' : t.deadLetters > 0 ? <Link to={`/deliveries?state=dead&target=${encodeURIComponent(t.name)}`}>{t.deadLetters}</Link> : 0}</dd>
        </div>
        <div>
          <dt>Last success</dt>
          <dd>
            <When at={t.lastSuccessAt} />
          </dd>
        </div>
      </dl>
      {lastError ? (
        <p class="last-error">
          <strong>Last error</strong> <When at={t.lastErrorAt} />: <span class="excerpt">{lastError}</span>
        </p>
      ) : null}
    </article>
  );
}

/** The dead man's switch (GET /api/v1/deadman's shape, inside the overview). */
function Deadman({ d }: { d: OverviewData['deadman'] }) {
  if (!d || d.state === 'disabled' || d.enabled === false) return <p class="muted">not configured</p>;
  const at = (k: string) => (typeof d[k] === 'string' ? (d[k] as string) : undefined);
  return (
    <>
      <p>
        <Badge value={String(d.state ?? 'unknown')} />{' '}
        {at('lastHeartbeatAt') ? (
          <>
            last heartbeat <When at={at('lastHeartbeatAt')} />
          </>
        ) : (
          <span class="muted">no heartbeat seen yet</span>
        )}
      </p>
      {d.state === 'firing' && at('pageOpenSince') ? (
        <p class="error-text">
          Paging since <When at={at('pageOpenSince')} />
        </p>
      ) : at('deadlineAt') ? (
        <p class="muted">
          Pages <When at={at('deadlineAt')} /> without a heartbeat
        </p>
      ) : null}
      {at('lastError') ? <p class="excerpt error-text">{at('lastError')}</p> : null}
    </>
  );
}

/** The Overview screen. */
export function Overview() {
  const polled = usePoll('overview', load);
  const data = polled.data;
  const o = data?.overview;
  return (
    <section aria-labelledby="page-title">
      <h1 id="page-title" tabIndex={-1}>
        Overview
      </h1>
      <Freshness at={polled.at} error={polled.error} />
      <ErrorNote error={polled.error} />
      {data?.partial ? <p class="note unavailable">The overview API (/api/v1/overview) is not available on this alertmux: rates, queue and chart are not shown.</p> : null}
      {o && (
        <>
          <div class="status-row">
            <section class="panel" aria-labelledby="cfg-h">
              <h2 id="cfg-h">Config</h2>
              {o.config.lastReloadSuccess === undefined ? (
                <p class="muted">not available</p>
              ) : (
                <p>
                  <Badge value={o.config.lastReloadSuccess ? 'ok' : 'failed'} label="last reload" /> <When at={o.config.lastReloadAt} />{' '}
                  <Link to="/config">details</Link>
                </p>
              )}
              {o.config.lastReloadError ? <p class="excerpt error-text">{o.config.lastReloadError}</p> : null}
            </section>
            <section class="panel" aria-labelledby="dm-h">
              <h2 id="dm-h">Dead man's switch</h2>
              <Deadman d={o.deadman} />
            </section>
          </div>
          <section class="panel" aria-labelledby="chart-h">
            <h2 id="chart-h">Notifications by outcome</h2>
            {o.totals.length ? <OutcomeChart buckets={o.totals} /> : <p class="muted">No notifications in this period.</p>}
          </section>
          <h2>Targets</h2>
          {o.targets.length === 0 ? <p class="muted">No targets configured.</p> : null}
          <div class="tiles">
            {o.targets.map((t) => (
              <TileCard key={t.name} t={t} />
            ))}
          </div>
        </>
      )}
    </section>
  );
}
