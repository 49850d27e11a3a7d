/** Small building blocks shared by the screens. */
import { createContext, type ComponentChildren } from 'preact';
import { useContext, useEffect, useRef, useState } from 'preact/hooks';
import { ApiError } from './api.js';
import { chipState } from './states.js';
import { local, relative } from './time.js';
import type { Session, TargetEntry } from './types.js';

export { chipState };

/** The session of the console: what the server said about the token, and whether actions are on. */
export const SessionContext = createContext<Session>({ tokenRequired: false, authenticated: false, actions: false });
export const useSession = () => useContext(SessionContext);

/** A time: relative age in the text, the local date and time on hover and for screen readers. */
export function When({ at }: { at?: string | number }) {
  if (at === undefined) return <span class="muted">—</span>;
  const iso = typeof at === 'number' ? new Date(at).toISOString() : at;
  return (
    <time dateTime={iso} title={local(iso)}>
      {relative(iso)}
    </time>
  );
}

/** One target's result as a chip: "pd-oncall: delivered". */
export function Chip({ entry }: { entry: TargetEntry }) {
  const { label, tone } = chipState(entry);
  const why = entry.lastError ?? entry.error;
  return (
    <span class={`chip ${tone}`} data-target={entry.target} data-state={label} title={why ? `${entry.target}: ${why}` : undefined}>
      {entry.target}: {label}
    </span>
  );
}

const TONES: Record<string, string> = {
  delivered: 'ok',
  healthy: 'ok',
  closed: 'ok',
  partial: 'warn',
  accepted: 'info',
  degraded: 'warn',
  'half-open': 'warn',
  half_open: 'warn',
  halfOpen: 'warn',
  unknown: 'neutral',
  failed: 'bad',
  unhealthy: 'bad',
  open: 'bad',
  firing: 'bad',
  resolved: 'ok',
  paused: 'warn',
  waiting: 'warn',
  ok: 'ok',
  missing: 'bad',
};

/** A word with a colour that says good, bad or in between (the word carries the meaning, not the colour). */
export function Badge({ value, label }: { value: string; label?: string }) {
  return (
    <span class={`badge ${TONES[value] ?? 'neutral'}`} data-value={value}>
      {label ? `${label}: ` : ''}
      {value}
    </span>
  );
}

/** An error of a read or an action; a route this alertmux does not have is "not available". */
export function ErrorNote({ error, what }: { error?: Error; what?: string }) {
  if (!error) return null;
  if (error instanceof ApiError && error.unavailable) {
    return (
      <p class="note unavailable" role="status">
        {what ?? 'This view'} is not available: this alertmux does not have the API route it needs.
      </p>
    );
  }
  return (
    <p class="note error" role="alert">
      {what ? `${what}: ` : ''}
      {error.message}
    </p>
  );
}

/** The note shown where actions would be, when the console is read-only. */
export function ReadOnlyNote() {
  const s = useSession();
  if (s.actions) return null;
  return (
    <p class="note readonly">
      Read-only: actions are off because no <code>admin.bearer_token</code> is configured. Setting it enables them (and the console then asks for it).
    </p>
  );
}

type Toast = { id: number; text: string; tone: 'ok' | 'bad' };
let toasts: Toast[] = [];
let nextToast = 1;
const listeners = new Set<(t: Toast[]) => void>();

/** Say what an action did (or why it failed) in the live region. */
export function notify(text: string, tone: 'ok' | 'bad' = 'ok'): void {
  const toast = { id: nextToast++, text, tone };
  toasts = [...toasts.slice(-3), toast];
  for (const l of listeners) l(toasts);
  setTimeout(() => {
    toasts = toasts.filter((t) => t !== toast);
    for (const l of listeners) l(toasts);
  }, 8000);
}

/** The live region where action results appear (announced by screen readers). */
export function Toasts() {
  const [list, setList] = useState(toasts);
  useEffect(() => {
    listeners.add(setList);
    return () => void listeners.delete(setList);
  }, []);
  return (
    <div class="toasts" role="status" aria-live="polite">
      {list.map((t) => (
        <p key={t.id} class={`toast ${t.tone}`}>
          {t.text}
        </p>
      ))}
    </div>
  );
}

/** Run an action: the button is busy meanwhile, and its result (or error) is announced. */
export function useAction(): [busy: boolean, run: (what: () => Promise<string>) => Promise<void>] {
  const [busy, setBusy] = useState(false);
  const run = async (what: () => Promise<string>) => {
    setBusy(true);
    try {
      notify(await what(), 'ok');
    } catch (err) {
      const e = err as Error;
      notify(e instanceof ApiError && e.unavailable ? 'Not available: this alertmux does not have that API route.' : e.message, 'bad');
    } finally {
      setBusy(false);
    }
  };
  return [busy, run];
}

/** A modal confirmation (native <dialog>: focus stays inside, Escape cancels). */
export function Confirm(props: { open: boolean; title: string; children: ComponentChildren; confirm: string; onConfirm(): void; onCancel(): void }) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (props.open && !d.open) d.showModal();
    if (!props.open && d.open) d.close();
  }, [props.open]);
  return (
    <dialog ref={ref} class="confirm" aria-labelledby="confirm-title" onCancel={props.onCancel}>
      <h2 id="confirm-title">{props.title}</h2>
      <div>{props.children}</div>
      <div class="actions">
        <button type="button" onClick={props.onCancel}>
          Cancel
        </button>
        <button type="button" class="primary" onClick={props.onConfirm}>
          {props.confirm}
        </button>
      </div>
    </dialog>
  );
}

/** "updated 3 s ago" for the polled view, so a stale screen shows it is stale. */
export function Freshness({ at, error }: { at?: number; error?: Error }) {
  return (
    <p class="freshness muted" aria-live="off">
      {at ? <>Live: updated <When at={at} /></> : 'Loading…'}
      {error && at ? ' (last refresh failed)' : ''}
    </p>
  );
}

/** A link inside the console (hash routes: no request, no token in any URL). */
export function Link(props: { to: string; children: ComponentChildren; class?: string }) {
  return (
    <a href={`#${props.to}`} class={props.class}>
      {props.children}
    </a>
  );
}
