/** Dead letters and queue: filter, select, bulk replay or delete (confirmed with the count), replay by filter. */
import { useState } from 'preact/hooks';
import { api, ApiError, query } from '../api.js';
import { usePoll } from '../poll.js';
import { navigate, type Route } from '../router.js';
import { fromLocalInput, local, toLocalInput } from '../time.js';
import { Confirm, ErrorNote, Freshness, Link, ReadOnlyNote, useAction, useSession, When } from '../ui.js';
import type { Delivery } from '../types.js';

const FIELDS = ['state', 'target', 'reason', 'since', 'until'] as const;
type Filters = Partial<Record<(typeof FIELDS)[number], string>>;
const REASONS = ['clientError', 'serverError', 'authError', 'rateLimited', 'timeout', 'canceled', 'network', 'circuitOpen', 'other'];

type Pending = { kind: 'replay'; ids: string[] } | { kind: 'delete'; ids: string[] } | { kind: 'filter'; target: string; since?: string; count: string };
const plural = (n: number) => `${n} deliver${n === 1 ? 'y' : 'ies'}`;

/** Delete many: the bulk route, or one DELETE each on an alertmux without it. */
async function deleteMany(ids: string[]): Promise<number> {
  try {
    const r = await api<{ deleted: number }>('/api/v1/deliveries/delete', { method: 'POST', body: { ids } });
    return r.deleted;
  } catch (err) {
    if (!(err instanceof ApiError && err.unavailable)) throw err;
    for (const id of ids) await api(`/api/v1/deliveries/${encodeURIComponent(id)}`, { method: 'DELETE' });
    return ids.length;
  }
}

function ReplayByFilter({ onAsk, defaultTarget }: { onAsk(p: Pending): void; defaultTarget?: string }) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<Error>();
  const submit = async (e: Event) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget as HTMLFormElement);
    const target = String(form.get('target') ?? '').trim();
    const since = fromLocalInput(String(form.get('since') ?? ''));
    setBusy(true);
    setError(undefined);
    try {
      // How many it would replay, so the confirmation can say it.
      const r = await api<{ deliveries: Delivery[]; nextCursor?: string | null }>(`/api/v1/deliveries${query({ state: 'dead', target, since, limit: 1000 })}`);
      onAsk({ kind: 'filter', target, since, count: r.nextCursor ? `more than ${r.deliveries.length}` : String(r.deliveries.length) });
    } catch (err) {
      setError(err as Error);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="filters" onSubmit={submit} aria-label="Replay by filter">
      <label>
        Target <input name="target" required defaultValue={defaultTarget} />
      </label>
      <label>
        Created since <input type="datetime-local" name="since" />
      </label>
      <div class="form-actions">
        <button type="submit" disabled={busy}>
          Replay dead letters…
        </button>
      </div>
      <ErrorNote error={error} what="Replay by filter" />
    </form>
  );
}

/** The Dead letters and queue screen. */
export function Deliveries({ route }: { route: Route }) {
  const session = useSession();
  const filters: Filters = Object.fromEntries(FIELDS.filter((f) => route.params.get(f)).map((f) => [f, route.params.get(f) ?? '']));
  const state = filters.state ?? 'dead';
  const cursor = route.params.get('cursor') ?? undefined;
  const q = query({ ...filters, state, cursor, limit: 100 });
  const polled = usePoll(`deliveries${q}`, () => api<{ deliveries: Delivery[]; nextCursor?: string | null }>(`/api/v1/deliveries${q}`));
  const rows = polled.data?.deliveries ?? [];
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [pending, setPending] = useState<Pending>();
  const [busy, run] = useAction();
  const visible = new Set(rows.map((r) => r.id));
  const chosen = [...selected].filter((id) => visible.has(id));
  const toggle = (id: string) => setSelected((s) => {
    const next = new Set(s);
    if (next.has(id)) next.delete(id);
    else next.add(id);
    return next;
  });
  const all = rows.length > 0 && chosen.length === rows.length;

  const apply = (e: Event) => {
    e.preventDefault();
    const form = new FormData(e.currentTarget as HTMLFormElement);
    const next: Record<string, string | undefined> = {};
    for (const f of FIELDS) {
      const v = String(form.get(f) ?? '').trim();
      next[f] = f === 'since' || f === 'until' ? fromLocalInput(v) : v || undefined;
    }
    setSelected(new Set());
    navigate('/deliveries', next);
  };

  const confirmed = () => {
    const p = pending;
    setPending(undefined);
    if (!p) return;
    void run(async () => {
      let text: string;
      if (p.kind === 'replay') {
        const r = await api<{ replayed: number }>('/api/v1/deliveries/replay', { method: 'POST', body: { ids: p.ids } });
        text = `Replayed ${plural(r.replayed)}.`;
      } else if (p.kind === 'delete') {
        text = `Deleted ${plural(await deleteMany(p.ids))}.`;
      } else {
        const r = await api<{ replayed: number }>('/api/v1/deliveries/replay', { method: 'POST', body: { target: p.target, state: 'dead', ...(p.since ? { since: p.since } : {}) } });
        text = `Replayed ${plural(r.replayed)} of ${p.target}.`;
      }
      setSelected(new Set());
      polled.refresh();
      return text;
    });
  };

  const n = pending && pending.kind !== 'filter' ? pending.ids.length : 0;
  return (
    <section aria-labelledby="page-title">
      <h1 id="page-title" tabIndex={-1}>
        Dead letters and queue
      </h1>
      <form class="filters" onSubmit={apply} aria-label="Filter deliveries" key={JSON.stringify(filters)}>
        <label>
          State
          <select name="state" defaultValue={state}>
            <option value="dead">dead letters</option>
            <option value="pending">queued (pending)</option>
          </select>
        </label>
        <label>
          Target <input name="target" defaultValue={filters.target} />
        </label>
        <label>
          Reason
          <select name="reason" defaultValue={filters.reason ?? ''}>
            <option value="">any</option>
            {REASONS.map((r) => (
              <option key={r} value={r}>
                {r}
              </option>
            ))}
          </select>
        </label>
        <label>
          Since <input type="datetime-local" name="since" defaultValue={toLocalInput(filters.since)} />
        </label>
        <label>
          Until <input type="datetime-local" name="until" defaultValue={toLocalInput(filters.until)} />
        </label>
        <div class="form-actions">
          <button type="submit" class="primary">
            Apply filters
          </button>
        </div>
      </form>
      <Freshness at={polled.at} error={polled.error} />
      <ErrorNote error={polled.error} what="Deliveries" />
      <ReadOnlyNote />
      {session.actions ? (
        <div class="bulk" role="toolbar" aria-label="Selected deliveries">
          <span>{chosen.length} selected</span>
          <button type="button" disabled={!chosen.length || busy} onClick={() => setPending({ kind: 'replay', ids: chosen })}>
            Replay selected
          </button>
          <button type="button" class="danger" disabled={!chosen.length || busy} onClick={() => setPending({ kind: 'delete', ids: chosen })}>
            Delete selected
          </button>
        </div>
      ) : null}
      <table class="list">
        <caption class="visually-hidden">Deliveries ({state})</caption>
        <thead>
          <tr>
            {session.actions ? (
              <th scope="col">
                <input type="checkbox" aria-label="Select all on this page" checked={all} onChange={() => setSelected(all ? new Set() : new Set(rows.map((r) => r.id)))} />
              </th>
            ) : null}
            <th scope="col">Target</th>
            <th scope="col">Group key</th>
            <th scope="col">Attempts</th>
            <th scope="col">Last status</th>
            <th scope="col">Reason</th>
            <th scope="col">Error</th>
            <th scope="col">Created</th>
            <th scope="col">{state === 'dead' ? 'Dead since' : 'Next attempt'}</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((d) => (
            <tr key={d.id} data-id={d.id} data-target={d.target}>
              {session.actions ? (
                <td>
                  <input type="checkbox" aria-label={`Select delivery ${d.id} to ${d.target}`} checked={selected.has(d.id)} onChange={() => toggle(d.id)} />
                </td>
              ) : null}
              <td>
                {d.target} <span class="muted">{d.type}</span>
              </td>
              <td class="excerpt">
                <Link to={`/notifications/${encodeURIComponent(d.notificationId)}`}>{d.groupKey}</Link>
              </td>
              <td>{d.attempts}</td>
              <td>{d.lastStatus ?? '—'}</td>
              <td>{d.lastReason ?? d.skipReason ?? '—'}</td>
              <td class="excerpt">{d.lastError ?? ''}</td>
              <td>
                <When at={d.createdAt} />
              </td>
              <td>{state === 'dead' ? <When at={d.updatedAt} /> : <When at={d.nextAttemptAt} />}</td>
            </tr>
          ))}
        </tbody>
      </table>
      {polled.data && rows.length === 0 ? <p class="muted">Nothing here.</p> : null}
      <nav class="pager" aria-label="Pages">
        {cursor ? (
          <button type="button" onClick={() => navigate('/deliveries', { ...filters })}>
            Newest
          </button>
        ) : null}
        {polled.data?.nextCursor ? (
          <button type="button" onClick={() => navigate('/deliveries', { ...filters, cursor: polled.data?.nextCursor ?? undefined })}>
            Older
          </button>
        ) : null}
      </nav>
      {session.actions ? (
        <section class="panel" aria-labelledby="byfilter-h">
          <h2 id="byfilter-h">Replay by filter</h2>
          <p class="muted">Every dead letter of one target, optionally only those created since a time.</p>
          <ReplayByFilter onAsk={setPending} defaultTarget={filters.target} />
        </section>
      ) : null}
      <Confirm
        open={pending !== undefined}
        title={pending?.kind === 'delete' ? 'Delete deliveries' : 'Replay deliveries'}
        confirm={pending?.kind === 'delete' ? `Delete ${n}` : pending?.kind === 'replay' ? `Replay ${n}` : 'Replay'}
        onConfirm={confirmed}
        onCancel={() => setPending(undefined)}
      >
        {pending?.kind === 'delete' ? <p>Delete {plural(n)}? They will never be delivered, and this cannot be undone.</p> : null}
        {pending?.kind === 'replay' ? <p>Replay {plural(n)} now?</p> : null}
        {pending?.kind === 'filter' ? (
          <p>
            Replay {pending.count} dead letter{pending.count === '1' ? '' : 's'} of {pending.target}
            {pending.since ? ` created since ${local(pending.since)}` : ''}?
          </p>
        ) : null}
      </Confirm>
    </section>
  );
}
