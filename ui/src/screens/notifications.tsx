/** Notifications: newest first, filters, per-target result chips, cursor pagination. */
import { useEffect, useState } from 'preact/hooks';
import { api, query } from '../api.js';
import { usePoll } from '../poll.js';
import { navigate, type Route } from '../router.js';
import { fromLocalInput, toLocalInput } from '../time.js';
import { Badge, Chip, ErrorNote, Freshness, Link, When } from '../ui.js';
import type { NotificationRow, Target } from '../types.js';

/** The filters of GET /api/v1/notifications the form offers (the route's query parameters). */
const FIELDS = ['alertname', 'receiver', 'groupKey', 'status', 'outcome', 'target', 'since', 'until', 'match'] as const;
type Filters = Partial<Record<(typeof FIELDS)[number], string>>;

const filtersOf = (params: URLSearchParams): Filters => Object.fromEntries(FIELDS.filter((f) => params.get(f)).map((f) => [f, params.get(f) ?? '']));

/** Target names for the target filter (best effort: the filter is also a free text field). */
function useTargetNames(): string[] {
  const [names, setNames] = useState<string[]>([]);
  useEffect(() => {
    api<{ targets: Target[] }>('/api/v1/targets').then(
      (r) => setNames(r.targets.map((t) => t.name)),
      () => setNames([]),
    );
  }, []);
  return names;
}

function FilterForm({ filters }: { filters: Filters }) {
  const names = useTargetNames();
  const submit = (e: Event) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget as HTMLFormElement);
    const next: Record<string, string | undefined> = {};
    for (const f of FIELDS) {
      const v = String(form.get(f) ?? '').trim();
      next[f] = f === 'since' || f === 'until' ? fromLocalInput(v) : v || undefined;
    }
    navigate('/notifications', next);
  };
  return (
    <form class="filters" onSubmit={submit} aria-label="Filter notifications">
      <label>
        Alertname <input name="alertname" defaultValue={filters.alertname} />
      </label>
      <label>
        Receiver <input name="receiver" defaultValue={filters.receiver} />
      </label>
      <label>
        Group key <input name="groupKey" defaultValue={filters.groupKey} />
      </label>
      <label>
        Status
        <select name="status" defaultValue={filters.status ?? ''}>
          <option value="">any</option>
          <option value="firing">firing</option>
          <option value="resolved">resolved</option>
        </select>
      </label>
      <label>
        Outcome
        <select name="outcome" defaultValue={filters.outcome ?? ''}>
          <option value="">any</option>
          {['delivered', 'partial', 'failed', 'accepted'].map((o) => (
            <option key={o} value={o}>
              {o}
            </option>
          ))}
        </select>
      </label>
      <label>
        Target
        <input name="target" list="target-names" defaultValue={filters.target} />
        <datalist id="target-names">
          {names.map((n) => (
            <option key={n} value={n} />
          ))}
        </datalist>
      </label>
      <label>
        Since <input type="datetime-local" name="since" defaultValue={toLocalInput(filters.since)} />
      </label>
      <label>
        Until <input type="datetime-local" name="until" defaultValue={toLocalInput(filters.until)} />
      </label>
      <label class="wide">
        Label matcher <input name="match" placeholder={'{severity="critical", team=~"db|infra"}'} defaultValue={filters.match} />
      </label>
      <div class="form-actions">
        <button type="submit" class="primary">
          Apply filters
        </button>
        <button type="button" onClick={() => navigate('/notifications')}>
          Clear
        </button>
      </div>
    </form>
  );
}

/** The Notifications screen; `cursor` in the route is the page ("older" follows nextCursor). */
export function Notifications({ route }: { route: Route }) {
  const filters = filtersOf(route.params);
  const cursor = route.params.get('cursor') ?? undefined;
  const q = query({ ...filters, cursor, limit: 50 });
  const polled = usePoll(`notifications${q}`, () => api<{ notifications: NotificationRow[]; nextCursor?: string | null }>(`/api/v1/notifications${q}`));
  const rows = polled.data?.notifications;
  const next = polled.data?.nextCursor;
  return (
    <section aria-labelledby="page-title">
      <h1 id="page-title" tabIndex={-1}>
        Notifications
      </h1>
      <FilterForm key={JSON.stringify(filters)} filters={filters} />
      <Freshness at={polled.at} error={polled.error} />
      <ErrorNote error={polled.error} what="Notifications" />
      {rows && (
        <>
          <table class="list">
            <caption class="visually-hidden">Notifications, newest first</caption>
            <thead>
              <tr>
                <th scope="col">Received</th>
                <th scope="col">Alerts</th>
                <th scope="col">Status</th>
                <th scope="col">Outcome</th>
                <th scope="col">Receiver / group</th>
                <th scope="col">Targets</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((n) => (
                <tr key={n.id} data-id={n.id}>
                  <td>
                    <Link to={`/notifications/${encodeURIComponent(n.id)}`}>
                      <When at={n.receivedAt} />
                    </Link>
                  </td>
                  <td>
                    <Link to={`/notifications/${encodeURIComponent(n.id)}`} class="alertnames">
                      {n.alertnames.join(', ') || '(no alertname)'}
                    </Link>{' '}
                    <span class="muted">({n.alerts})</span>
                  </td>
                  <td>
                    <Badge value={n.status} />
                  </td>
                  <td>
                    <Badge value={n.outcome} />
                  </td>
                  <td class="excerpt">
                    {n.receiver}
                    <br />
                    <span class="muted">{n.groupKey}</span>
                  </td>
                  <td class="chips">
                    {n.targets.map((t) => (
                      <Chip key={t.target} entry={t} />
                    ))}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          {rows.length === 0 ? <p class="muted">No notifications match.</p> : null}
          <nav class="pager" aria-label="Pages">
            {cursor ? (
              <button type="button" onClick={() => navigate('/notifications', { ...filters })}>
                Newest
              </button>
            ) : null}
            {next ? (
              <button type="button" onClick={() => navigate('/notifications', { ...filters, cursor: next })}>
                Older
              </button>
            ) : null}
          </nav>
        </>
      )}
    </section>
  );
}
