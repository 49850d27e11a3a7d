/** The ledger could not take responsibility: the caller must answer 503 so Alertmanager retries. */
export class StorageError extends Error {
  override name = 'StorageError';
}
