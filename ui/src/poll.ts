import { useCallback, useEffect, useRef, useState } from 'preact/hooks';

/** How often the current view is read again (live updates without a page reload). */
export const POLL_MS = 4000;

/** The state of a polled read. */
export interface Polled<T> {
  data?: T;
  error?: Error;
  /** When the data was last read. */
  at?: number;
  refresh(): void;
}

/**
 * Reads `load` now and every `POLL_MS` while the page is visible, never two at once; a change of `key`
 * starts over. The last good data stays shown when a later read fails (with the error beside it). A read
 * still in flight when the view changes is left to finish and ignored: aborting it would be a failed request.
 */
export function usePoll<T>(key: string, load: () => Promise<T>, ms = POLL_MS): Polled<T> {
  const [state, setState] = useState<{ key: string; data?: T; error?: Error; at?: number }>({ key });
  const tick = useRef<() => void>(() => undefined);
  const loadRef = useRef(load);
  loadRef.current = load;

  useEffect(() => {
    let stopped = false;
    let running = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    setState((s) => (s.key === key ? s : { key }));
    const run = async () => {
      if (stopped || running) return;
      running = true;
      clearTimeout(timer);
      try {
        const data = await loadRef.current();
        if (!stopped) setState({ key, data, at: Date.now() });
      } catch (err) {
        if (!stopped) setState((s) => ({ ...(s.key === key ? s : { key }), error: err as Error }));
      } finally {
        running = false;
        if (!stopped) timer = setTimeout(() => void (document.hidden ? undefined : run()), ms);
      }
    };
    const visible = () => {
      if (!document.hidden) void run();
    };
    tick.current = () => void run();
    document.addEventListener('visibilitychange', visible);
    void run();
    return () => {
      stopped = true;
      clearTimeout(timer);
      document.removeEventListener('visibilitychange', visible);
    };
  }, [key, ms]);

  const refresh = useCallback(() => tick.current(), []);
  const same = state.key === key;
  return { data: same ? state.data : undefined, error: same ? state.error : undefined, at: same ? state.at : undefined, refresh };
}
