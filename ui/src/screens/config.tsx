/** Config: the running config (secrets redacted by the server), reload, and the last reload's result. */
import { api } from '../api.js';
import { usePoll } from '../poll.js';
import { Badge, ErrorNote, Freshness, ReadOnlyNote, useAction, useSession, When } from '../ui.js';
import type { ReloadStatus } from '../types.js';

interface ConfigView {
  config?: unknown;
  reload?: ReloadStatus;
  [k: string]: unknown;
}

/** The reload status, wherever this version of the API puts it. */
function statusOf(v: ConfigView): ReloadStatus {
  if (v.reload) return v.reload;
  const r = v as ReloadStatus;
  return { lastReloadAt: r.lastReloadAt, lastReloadSuccess: r.lastReloadSuccess, lastReloadError: r.lastReloadError };
}

/** The Config screen. */
export function ConfigScreen() {
  const session = useSession();
  const polled = usePoll('config', () => api<ConfigView>('/api/v1/config'));
  const [busy, run] = useAction();
  const reload = () =>
    run(async () => {
      await api<string>('/-/reload', { method: 'POST' });
      polled.refresh();
      return 'Config reloaded.';
    });
  const v = polled.data;
  const status = v ? statusOf(v) : undefined;
  return (
    <section aria-labelledby="page-title">
      <h1 id="page-title" tabIndex={-1}>
        Config
      </h1>
      <Freshness at={polled.at} error={polled.error} />
      <ErrorNote error={polled.error} what="The running config" />
      <ReadOnlyNote />
      {session.actions ? (
        <p>
          <button type="button" class="primary" disabled={busy} onClick={reload}>
            Reload config
          </button>{' '}
          <span class="muted">Reads the file again; a bad config keeps the running one.</span>
        </p>
      ) : null}
      {status && (
        <section class="panel" aria-labelledby="reload-h">
          <h2 id="reload-h">Last reload</h2>
          <p>
            {status.lastReloadSuccess === undefined ? <span class="muted">not available</span> : <Badge value={status.lastReloadSuccess ? 'ok' : 'failed'} />}{' '}
            <When at={status.lastReloadAt} />
          </p>
          {status.lastReloadError ? <pre class="payload error-text">{status.lastReloadError}</pre> : null}
        </section>
      )}
      {v && (
        <section class="panel" aria-labelledby="running-h">
          <h2 id="running-h">Running config (secrets redacted)</h2>
          <pre class="payload config">{JSON.stringify(v.config ?? v, null, 2)}</pre>
        </section>
      )}
    </section>
  );
}
