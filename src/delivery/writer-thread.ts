import { once } from 'node:events';
import { Worker } from 'node:worker_threads';
import type { WriteOptions } from './sqlite.js';
import type { WriteBatch, WriteResult } from './types.js';

interface Waiting {
  resolve(result: WriteResult): void;
  reject(err: Error): void;
}

/**
 * The main thread's side of the ledger's writer thread (ledger-thread.ts): sends
 * it batches and resolves each when the thread answers that it committed. If the
 * thread dies, what it had not answered fails (the webhook answers 503, so
 * Alertmanager retries) and the next write starts a new thread.
 */
export class WriterThread {
  private worker?: Worker;
  private next = 0;
  private readonly waiting = new Map<number, Waiting>();

  constructor(
    private readonly path: string,
    private readonly options: WriteOptions = {},
  ) {
    this.worker = this.start();
  }

  write(batch: WriteBatch): Promise<WriteResult> {
    const worker = (this.worker ??= this.start());
    const id = this.next++;
    // Referenced only while a write is outstanding: an idle ledger never keeps the process alive.
    if (!this.waiting.size) worker.ref();
    return new Promise<WriteResult>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      worker.postMessage({ id, batch });
    });
  }

  /** Let the thread finish what it was sent, then stop it. */
  async close(): Promise<void> {
    const worker = this.worker;
    if (!worker) return;
    this.worker = undefined;
    const exited = once(worker, 'exit');
    worker.postMessage('close');
    await exited;
  }

  private start(): Worker {
    const worker = spawn(this.path, this.options);
    worker.unref();
    worker.on('message', ({ id, result }: { id: number; result: WriteResult }) => {
      this.waiting.get(id)?.resolve(result);
      this.waiting.delete(id);
      if (!this.waiting.size) worker.unref();
    });
    const fail = (err: Error) => {
      if (this.worker === worker) this.worker = undefined;
      for (const w of this.waiting.values()) w.reject(err);
      this.waiting.clear();
    };
    worker.on('error', (err) => fail(new Error(`ledger writer thread failed: ${err.message}`)));
    worker.on('exit', (code) => fail(new Error(`ledger writer thread exited (code ${code})`)));
    return worker;
  }
}

/**
 * The thread's V8 heap: its work is small batches in, sequence numbers out, so a small young
 * generation is plenty (V8's default would let it grow to 32 MB of RSS). No old-space limit:
 * reaching one would kill the thread.
 */
const RESOURCE_LIMITS = { maxYoungGenerationSizeMb: 4 };

function spawn(path: string, options: WriteOptions): Worker {
  const workerData = { path, replica: options.replica };
  const resourceLimits = RESOURCE_LIMITS;
  const entry = new URL(import.meta.url.endsWith('.ts') ? './ledger-thread.ts' : './ledger-thread.js', import.meta.url);
  if (entry.pathname.endsWith('.js')) return new Worker(entry, { workerData, resourceLimits });
  // Running from TypeScript sources (tests, `tsx`): a worker thread does not inherit tsx's loader, so register it first.
  const boot = `import('tsx/esm/api').then((tsx) => { tsx.register(); return import(${JSON.stringify(entry.href)}); })`;
  return new Worker(boot, { eval: true, workerData, resourceLimits });
}
