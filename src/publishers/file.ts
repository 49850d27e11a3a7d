import { mkdir, open, type FileHandle } from 'node:fs/promises';
import { dirname } from 'node:path';
import { targetSchema, type BaseTarget } from './target.js';
import type { Publisher, PublisherDeps } from './publisher.js';

/** Appends every delivered group as one JSON line to a file. */
export interface FileTarget extends BaseTarget {
  type: 'file';
  path: string;
  format: 'alertmanager' | 'alertmux';
}

/** Config schema of the `file` type. */
export const fileSchema = targetSchema(
  'file',
  'Appends each delivered group as one JSON line (JSONL) to a local file.',
  {
    path: { type: 'string', minLength: 1, description: 'File to append to; its directory is created.' },
    format: { enum: ['alertmanager', 'alertmux'], default: 'alertmux', description: 'Which view of the group to write.' },
  },
  ['path'],
);

/** Create the publisher of a `file` target. The file is opened on first use and kept open. */
export function createFilePublisher(target: FileTarget, deps: PublisherDeps): Publisher {
  let handle: Promise<FileHandle> | undefined;
  const file = (): Promise<FileHandle> =>
    (handle ??= mkdir(dirname(target.path), { recursive: true }).then(() => open(target.path, 'a')));
  return {
    type: 'file',
    name: target.name,
    async publish(msg, ctx) {
      const line = JSON.stringify({
        time: new Date(deps.now()).toISOString(),
        target: target.name,
        deliveryId: ctx.deliveryId,
        ...(ctx.fallbackFor === undefined ? {} : { fallbackFor: ctx.fallbackFor }),
        ...(target.format === 'alertmux' ? msg.message : msg.original),
      });
      try {
        // One write per line on an O_APPEND handle: lines never interleave.
        await (await file()).write(`${line}\n`);
        return { ok: true };
      } catch (err) {
        const broken = handle;
        handle = undefined;
        void broken?.then((h) => h.close()).catch(() => undefined);
        const code = (err as NodeJS.ErrnoException).code ?? 'unknown';
        return { ok: false, retryable: true, reason: 'other', message: `cannot append to ${target.path}: ${code}` };
      }
    },
    async close() {
      const h = handle;
      handle = undefined;
      if (h) await (await h).close().catch(() => undefined);
    },
  };
}
