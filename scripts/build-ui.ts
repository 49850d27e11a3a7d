/**
 * Builds the operator console (ui/) into dist/ui/: one JavaScript and one CSS file named by content hash,
 * and an index.html naming them. Nothing is fetched at run time from anywhere but alertmux itself.
 * `npm run build` runs this after tsc; prints the gzip size (docs/console.md quotes it).
 */
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

const root = join(fileURLToPath(new URL('.', import.meta.url)), '..');
const out = join(root, 'dist', 'ui');
rmSync(out, { recursive: true, force: true });
mkdirSync(join(out, 'assets'), { recursive: true });

const result = await build({
  absWorkingDir: root,
  entryPoints: { app: 'ui/src/main.tsx' },
  bundle: true,
  minify: true,
  format: 'esm',
  // Browsers of the last few years; the console needs <dialog>, fetch and ES2020.
  target: ['chrome100', 'firefox100', 'safari15'],
  jsx: 'automatic',
  jsxImportSource: 'preact',
  outdir: join(out, 'assets'),
  entryNames: '[name]-[hash]',
  metafile: true,
  legalComments: 'none',
  logLevel: 'warning',
});

const outputs = Object.keys(result.metafile.outputs).map((p) => basename(p));
const js = outputs.find((f) => f.endsWith('.js'));
const css = outputs.find((f) => f.endsWith('.css'));
if (!js || !css) throw new Error(`the console build wrote ${outputs.join(', ')}: expected one .js and one .css`);
const html = readFileSync(join(root, 'ui', 'index.html'), 'utf8').replace('{{css}}', `assets/${css}`).replace('{{js}}', `assets/${js}`);
writeFileSync(join(out, 'index.html'), html);

const size = (f: string) => readFileSync(join(out, f)).length;
const gz = (f: string) => gzipSync(readFileSync(join(out, f)), { level: 9 }).length;
const files = ['index.html', `assets/${js}`, `assets/${css}`];
const total = files.reduce((n, f) => n + gz(f), 0);
console.log(`console: ${files.map((f) => `${f} ${size(f)} B (${gz(f)} B gzip)`).join(', ')}; ${(total / 1024).toFixed(1)} KiB gzip in all`);
