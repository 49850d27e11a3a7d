/** Notifications by outcome over time: stacked bars in inline SVG (no chart library). */
import { local } from './time.js';
import type { Bucket } from './types.js';

const SERIES = [
  ['delivered', 'Delivered'],
  ['partial', 'Partial'],
  ['accepted', 'Accepted (queued)'],
  ['failed', 'Failed'],
] as const;

const W = 640;
const H = 140;
const PAD = 24;

/** The chart, with a legend and a text summary for screen readers. */
export function OutcomeChart({ buckets }: { buckets: Bucket[] }) {
  const total = (b: Bucket) => b.delivered + b.partial + b.accepted + b.failed;
  const max = Math.max(1, ...buckets.map(total));
  const sums = Object.fromEntries(SERIES.map(([k]) => [k, buckets.reduce((n, b) => n + b[k], 0)]));
  const bw = buckets.length ? (W - PAD) / buckets.length : 0;
  const first = buckets[0]?.start;
  const last = buckets.at(-1)?.start;
  return (
    <figure class="chart">
      <svg viewBox={`0 0 ${W} ${H + 18}`} role="img" aria-label={`Notifications by outcome: ${SERIES.map(([k, l]) => `${l} ${sums[k]}`).join(', ')}`}>
        <line x1={PAD} y1={H} x2={W} y2={H} class="axis" />
        <text x={PAD - 4} y={10} class="tick" text-anchor="end">
          {max}
        </text>
        <text x={PAD - 4} y={H} class="tick" text-anchor="end">
          0
        </text>
        {buckets.map((b, i) => {
          let y = H;
          return (
            <g key={b.start}>
              <title>{`${local(b.start)}: ${SERIES.map(([k, l]) => `${l} ${b[k]}`).join(', ')}`}</title>
              {SERIES.map(([k]) => {
                const h = (b[k] / max) * (H - 8);
                y -= h;
                return h > 0 ? <rect key={k} class={`bar ${k}`} x={PAD + i * bw + 1} y={y} width={Math.max(1, bw - 2)} height={h} /> : null;
              })}
            </g>
          );
        })}
        {first && (
          <text x={PAD} y={H + 14} class="tick">
            {local(first)}
          </text>
        )}
        {last && (
          <text x={W} y={H + 14} class="tick" text-anchor="end">
            {local(last)}
          </text>
        )}
      </svg>
      <figcaption class="legend">
        {SERIES.map(([k, l]) => (
          <span key={k} class="key">
            <span class={`swatch ${k}`} aria-hidden="true" /> {l}: {sums[k]}
          </span>
        ))}
      </figcaption>
    </figure>
  );
}
