import { parentPort, workerData } from 'node:worker_threads';
import { Checkpointer } from './checkpoint.js';
import { openDatabase, prepareWrites } from './sqlite.js';
import type { WriteBatch } from './types.js';

/**
 * The ledger's writer thread: commits the batches the main thread sends, in
 * order, on its own connection, so SQLite's inserts, index updates and WAL
 * writes (a quarter of the CPU per notification on the main thread) run on
 * another core. Started by WriterThread.
 */
const port = parentPort;
if (!port) throw new Error('ledger-thread.js runs as a worker thread');
// SQLite's automatic checkpoint stays on here, for a load that never pauses; the pauses get ours.
const { path, replica } = workerData as { path: string; replica?: string };
const db = openDatabase(path);
const writes = prepareWrites(db, { replica });
const checkpoints = new Checkpointer(() => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch {
    // Nothing is lost: the WAL keeps the commits. The next checkpoint tries again, and SQLite's own bounds the WAL.
  }
});
port.on('message', (msg: { id: number; batch: WriteBatch } | 'close') => {
  if (msg === 'close') {
    checkpoints.stop();
    db.close();
    port.close();
    return;
  }
  port.postMessage({ id: msg.id, result: writes.commit(msg.batch) });
  checkpoints.committed();
});
