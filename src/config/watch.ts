import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/**
 * A digest of every file under `dir` (names and contents; hidden entries such as
 * a mounted Secret's `..data` are skipped, their content is read through the
 * visible links). Unreadable entries count as their error code, so a change there shows too.
 */
export function digestDir(dir: string): string {
  const hash = createHash('sha256');
  const walk = (path: string, depth: number): void => {
    let entries: string[];
    try {
      entries = readdirSync(path).filter((e) => !e.startsWith('.')).sort();
    } catch (err) {
      hash.update(`${path}:${(err as NodeJS.ErrnoException).code ?? 'error'}\n`);
      return;
    }
    for (const entry of entries) {
      const full = join(path, entry);
      const stat = statSync(full, { throwIfNoEntry: false });
      if (stat?.isDirectory()) {
        if (depth < 2) walk(full, depth + 1);
      } else if (stat?.isFile()) {
        hash.update(`${full}\n`);
        hash.update(readFileSync(full));
      } else hash.update(`${full}:missing\n`);
    }
  };
  walk(dir, 0);
  return hash.digest('hex');
}

/**
 * Poll `dir` every `intervalMs` and call `onChange` when its digest changes
 * (adding a target is adding a file or a Secret). Polling, not fs.watch:
 * Kubernetes updates mounted Secrets by swapping symlinks, which watchers miss.
 * The timer is unref'd; the returned function stops it.
 */
export function watchDir(dir: string, intervalMs: number, onChange: () => void): () => void {
  let last = digestDir(dir);
  const timer = setInterval(() => {
    const now = digestDir(dir);
    if (now !== last) {
      last = now;
      onChange();
    }
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
