// Summarise V8 .cpuprofile files (from `node --cpu-prof`, or BENCH_PROFILE=DIR
// npm run bench): the top functions by self time, and the top files/packages.
//
// Usage: node bench/cpuprofile-top.js FILE.cpuprofile... [--top 25] [--inclusive] [--skip SECONDS]
// (--inclusive adds the top functions by total time: self plus what they call.)
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '25' }, inclusive: { type: 'boolean', default: false }, skip: { type: 'string', default: '0' } } });
const top = Number(values.top);

/** Where a frame comes from: a package name, a src/ file, or a Node internal. */
function origin(url) {
  if (!url) return '(native/vm)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1];
  const dist = /\/dist\/(.+)$/.exec(url);
  if (dist) return `alertmux ${dist[1]}`;
  if (url.startsWith('node:')) return url;
  return url.replace(/^file:\/\//, '');
}

for (const file of positionals) {
  const profile = JSON.parse(readFileSync(file, 'utf8'));
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map();
  // Sample intervals: timeDeltas[i] is the time before sample i.
  // --skip S leaves out the first S seconds (start-up and warm-up).
  let elapsed = 0;
  profile.samples.forEach((id, i) => {
    elapsed += profile.timeDeltas[i] ?? 0;
    if (elapsed >= Number(values.skip) * 1e6) self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const byFunction = new Map();
  const byOrigin = new Map();
  for (const [id, us] of self) {
    const { callFrame } = byId.get(id);
    const name = callFrame.functionName || '(anonymous)';
    const key = `${name}  ${origin(callFrame.url)}${callFrame.url ? `:${callFrame.lineNumber + 1}` : ''}`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + us);
    const o = ['(idle)', '(program)', '(garbage collector)'].includes(name) ? name : origin(callFrame.url);
    byOrigin.set(o, (byOrigin.get(o) ?? 0) + us);
  }
  const busy = total - (byOrigin.get('(idle)') ?? 0);
  const keyOf = (node) => {
    const { callFrame } = node;
    return `${callFrame.functionName || '(anonymous)'}  ${origin(callFrame.url)}${callFrame.url ? `:${callFrame.lineNumber + 1}` : ''}`;
  };
  const inclusive = new Map();
  if (values.inclusive) {
    const parent = new Map();
    for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
    for (const [id, us] of self) {
      const seen = new Set();
      for (let at = id; at !== undefined; at = parent.get(at)) seen.add(keyOf(byId.get(at)));
      for (const key of seen) inclusive.set(key, (inclusive.get(key) ?? 0) + us);
    }
  }
  const line = (us, what) => `${((us / 1000) | 0).toString().padStart(8)} ms ${((100 * us) / busy).toFixed(1).padStart(5)}%  ${what}`;
  console.log(`${file}: ${(total / 1e6).toFixed(1)} s sampled, ${(busy / 1e6).toFixed(1)} s busy (percentages of busy)`);
  console.log(`\ntop ${top} functions by self time:`);
  for (const [key, us] of [...byFunction].filter(([k]) => !k.startsWith('(idle)')).sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(line(us, key));
  if (values.inclusive) {
    console.log(`\ntop ${top} functions by total time (self + callees):`);
    const skip = (k) => /^\((idle|root|program|garbage collector)\)/.test(k);
    for (const [key, us] of [...inclusive].filter(([k]) => !skip(k)).sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(line(us, key));
  }
  console.log('\nby package / file:');
  for (const [key, us] of [...byOrigin].filter(([k]) => k !== '(idle)').sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(line(us, key));
  console.log('');
}
