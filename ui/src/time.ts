/** Times as the console shows them: in the browser's zone, with a relative age. */

const UNITS: Array<[limit: number, seconds: number, unit: Intl.RelativeTimeFormatUnit]> = [
  [60, 1, 'second'],
  [3600, 60, 'minute'],
  [86400, 3600, 'hour'],
  [Infinity, 86400, 'day'],
];
const rtf = new Intl.RelativeTimeFormat(undefined, { numeric: 'always', style: 'short' });
const abs = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'medium' });

/** "3 min ago", "in 20 sec". */
export function relative(at: string | number | undefined, now = Date.now()): string {
  if (at === undefined) return '—';
  const t = typeof at === 'number' ? at : Date.parse(at);
  if (Number.isNaN(t)) return '—';
  const diff = (t - now) / 1000;
  const a = Math.abs(diff);
  if (a < 5) return 'just now';
  for (const [limit, seconds, unit] of UNITS) if (a < limit) return rtf.format(Math.round(diff / seconds), unit);
  return '—';
}

/** The full local date and time. */
export function local(at: string | number | undefined): string {
  if (at === undefined) return '—';
  const t = typeof at === 'number' ? at : Date.parse(at);
  return Number.isNaN(t) ? '—' : abs.format(t);
}

/** A duration in seconds as "4m 10s", "2h 3m". */
export function age(seconds: number | undefined | null): string {
  if (seconds === undefined || seconds === null) return '—';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${s % 60}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
  return `${Math.floor(s / 86400)}d ${Math.floor((s % 86400) / 3600)}h`;
}

/** A `datetime-local` input value (local zone) as an ISO instant, or undefined when empty. */
export function fromLocalInput(value: string): string | undefined {
  if (!value) return undefined;
  const t = new Date(value).getTime();
  return Number.isNaN(t) ? undefined : new Date(t).toISOString();
}

/** An ISO instant as a `datetime-local` input value in the local zone. */
export function toLocalInput(iso: string | undefined): string {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}
