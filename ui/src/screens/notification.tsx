/** Notification detail: alerts, payload as received, per target what was sent and the attempt timeline; replay. */
import { useState } from 'preact/hooks';
import { api } from '../api.js';
import { usePoll } from '../poll.js';
import { local } from '../time.js';
import { Badge, Chip, chipState, Confirm, ErrorNote, Freshness, Link, ReadOnlyNote, useAction, useSession, When } from '../ui.js';
import type { Alert, NotificationDetail, TargetEntry } from '../types.js';

/** Deliveries that a replay can act on: dead letters and those still queued. */
const replayable = (t: TargetEntry) => Boolean(t.deliveryId) && ['failed', 'retrying', 'queued'].some((s) => chipState(t).label.startsWith(s));

const isUrl = (v: string) => /^https?:\/\//i.test(v);

function Labels({ labels }: { labels: Record<string, string> }) {
  return (
    <ul class="labels" aria-label="labels">
      {Object.entries(labels).map(([k, v]) => (
        <li key={k} class="label">
          <span class="k">{k}</span>=<span class="v">{v}</span>
        </li>
      ))}
    </ul>
  );
}

function AlertCard({ alert }: { alert: Alert }) {
  const annotations = Object.entries(alert.annotations ?? {});
  const links = annotations.filter(([, v]) => isUrl(v));
  if (alert.generatorURL && isUrl(alert.generatorURL)) links.unshift(['source', alert.generatorURL]);
  return (
    <li class="alert-card">
      <p>
        <Badge value={alert.status} /> <strong>{alert.labels['alertname'] ?? '(no alertname)'}</strong>{' '}
        <span class="muted">
          since <When at={alert.startsAt} />
        </span>
      </p>
      <Labels labels={alert.labels} />
      {annotations.filter(([, v]) => !isUrl(v)).length ? (
        <dl class="annotations">
          {annotations
            .filter(([, v]) => !isUrl(v))
            .map(([k, v]) => (
              <div key={k}>
                <dt>{k}</dt>
                <dd>{v}</dd>
              </div>
            ))}
        </dl>
      ) : null}
      {links.length ? (
        <p class="links">
          {links.map(([k, v]) => (
            <a key={k} href={v} target="_blank" rel="noopener noreferrer">
              {k}
            </a>
          ))}
        </p>
      ) : null}
    </li>
  );
}

function Timeline({ t }: { t: TargetEntry }) {
  const history = t.attemptHistory;
  if (!history) {
    if (!t.attempts) return <p class="muted">No attempt yet.</p>;
    return (
      <p class="muted">
        Attempt history is not available on this alertmux. {t.attempts} attempt{t.attempts === 1 ? '' : 's'}; last: {t.statusCode ?? t.lastStatus ?? 'no status'}{' '}
        {t.reason ?? t.lastReason ?? ''} <span class="excerpt">{t.error ?? t.lastError ?? ''}</span>
      </p>
    );
  }
  if (!history.length) return <p class="muted">No attempt yet.</p>;
  return (
    <table class="timeline">
      <caption class="visually-hidden">Attempts to {t.target}, oldest first</caption>
      <thead>
        <tr>
          <th scope="col">#</th>
          <th scope="col">Time</th>
          <th scope="col">Replica</th>
          <th scope="col">Duration</th>
          <th scope="col">Status</th>
          <th scope="col">Outcome</th>
          <th scope="col">Reason</th>
          <th scope="col">Error</th>
          <th scope="col">Next attempt</th>
        </tr>
      </thead>
      <tbody>
        {history.map((a, i) => (
          <tr key={`${a.at}-${i}`} class={a.reason || a.error ? 'failed-attempt' : 'ok-attempt'} data-attempt={a.attempt ?? i + 1}>
            <td>
              {a.attempt ?? i + 1}
              {a.trial ? ' (trial)' : ''}
              {a.replay ? ' (replay)' : ''}
            </td>
            <td>
              <time dateTime={a.at} title={local(a.at)}>
                {local(a.at)}
              </time>
            </td>
            <td>{a.replica ?? '—'}</td>
            <td>{a.durationMs === undefined ? '—' : `${Math.round(a.durationMs)} ms`}</td>
            <td>{a.statusCode ?? '—'}</td>
            <td>{a.outcome ?? (a.reason || a.error ? 'failed' : 'ok')}</td>
            <td>{a.reason ?? '—'}</td>
            <td class="excerpt">{a.error ?? ''}</td>
            <td>{a.nextAttemptAt ? <When at={a.nextAttemptAt} /> : '—'}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

function TargetResult({ t, onDone }: { t: TargetEntry; onDone(): void }) {
  const session = useSession();
  const [busy, run] = useAction();
  const replay = () =>
    run(async () => {
      await api(`/api/v1/deliveries/${encodeURIComponent(t.deliveryId ?? '')}/replay`, { method: 'POST' });
      onDone();
      return `Replay of ${t.target} queued.`;
    });
  return (
    <article class="target-result" aria-labelledby={`tr-${t.target}`} data-target={t.target}>
      <header>
        <h3 id={`tr-${t.target}`}>{t.target}</h3>
        <span class="muted">{t.type}</span> <Chip entry={t} />
        {t.fallbackFor ? <span class="muted"> fallback for {t.fallbackFor}</span> : null}
        {session.actions && replayable(t) ? (
          <button type="button" onClick={replay} disabled={busy}>
            Replay to {t.target}
          </button>
        ) : null}
      </header>
      {(t.error ?? t.lastError) ? <p class="excerpt error-text">{t.error ?? t.lastError}</p> : null}
      {t.nextAttemptAt ? (
        <p class="muted">
          Next attempt <When at={t.nextAttemptAt} />
        </p>
      ) : null}
      <h4>Attempts</h4>
      <Timeline t={t} />
      <details>
        <summary>What was sent</summary>
        {t.sent === undefined ? (
          <p class="muted">{t.sentUnavailable ?? 'Not available for this target.'}</p>
        ) : (
          <>
            <p class="muted">Rendered from the stored notification with the target's current config; secrets redacted.</p>
            <pre class="payload">{JSON.stringify(t.sent, null, 2)}</pre>
          </>
        )}
      </details>
    </article>
  );
}

/** The Notification detail screen. */
export function NotificationScreen({ id }: { id: string }) {
  const session = useSession();
  const polled = usePoll(`notification ${id}`, () => api<NotificationDetail>(`/api/v1/notifications/${encodeURIComponent(id)}`));
  const n = polled.data;
  const [confirm, setConfirm] = useState(false);
  const [busy, run] = useAction();
  const open = n?.targets.filter(replayable) ?? [];
  const replayAll = () => {
    setConfirm(false);
    void run(async () => {
      const r = await api<{ replayed: number }>('/api/v1/deliveries/replay', { method: 'POST', body: { ids: open.map((t) => t.deliveryId) } });
      polled.refresh();
      return `Replayed ${r.replayed} deliver${r.replayed === 1 ? 'y' : 'ies'}.`;
    });
  };
  const alerts = n?.payload?.alerts ?? [];
  return (
    <section aria-labelledby="page-title">
      <p>
        <Link to="/notifications">← Notifications</Link>
      </p>
      <h1 id="page-title" tabIndex={-1}>
        Notification {n ? [...new Set(alerts.map((a) => a.labels['alertname']).filter(Boolean))].join(', ') : ''}
      </h1>
      <Freshness at={polled.at} error={polled.error} />
      <ErrorNote error={polled.error} what="Notification" />
      {n && (
        <>
          <dl class="facts">
            <div>
              <dt>ID</dt>
              <dd>
                <code>{n.id}</code>
              </dd>
            </div>
            <div>
              <dt>Received</dt>
              <dd>
                <When at={n.receivedAt} /> <span class="muted">({local(n.receivedAt)})</span>
              </dd>
            </div>
            <div>
              <dt>Status</dt>
              <dd>
                <Badge value={n.status} />
              </dd>
            </div>
            <div>
              <dt>Outcome</dt>
              <dd>
                <Badge value={n.outcome} />
              </dd>
            </div>
            <div>
              <dt>Receiver</dt>
              <dd>{n.receiver}</dd>
            </div>
            <div>
              <dt>Group key</dt>
              <dd>
                <code>{n.groupKey}</code>
              </dd>
            </div>
          </dl>
          <h2>Targets</h2>
          <ReadOnlyNote />
          {session.actions && open.length > 0 ? (
            <p>
              <button type="button" class="primary" disabled={busy} onClick={() => setConfirm(true)}>
                Replay to all open targets ({open.length})
              </button>
            </p>
          ) : null}
          <Confirm
            open={confirm}
            title="Replay this notification"
            confirm={`Replay ${open.length}`}
            onConfirm={replayAll}
            onCancel={() => setConfirm(false)}
          >
            <p>
              Replay to {open.length} target{open.length === 1 ? '' : 's'} that did not get it: {open.map((t) => t.target).join(', ')}?
            </p>
          </Confirm>
          {n.targets.map((t) => (
            <TargetResult key={t.target} t={t} onDone={polled.refresh} />
          ))}
          <h2>Alerts ({alerts.length})</h2>
          <ul class="alerts">
            {alerts.map((a, i) => (
              <AlertCard key={a.fingerprint ?? i} alert={a} />
            ))}
          </ul>
          <details>
            <summary>Payload as received</summary>
            {n.payload === undefined ? <p class="muted">Not available.</p> : <pre class="payload">{JSON.stringify(n.payload, null, 2)}</pre>}
          </details>
        </>
      )}
    </section>
  );
}
