import { useEffect, useState } from 'preact/hooks';

/** Where the console is: `#/notifications?alertname=X` → path `/notifications`, params `alertname=X`. */
export interface Route {
  path: string;
  params: URLSearchParams;
}

function current(): Route {
  const hash = location.hash.replace(/^#/, '') || '/overview';
  const q = hash.indexOf('?');
  return { path: q < 0 ? hash : hash.slice(0, q), params: new URLSearchParams(q < 0 ? '' : hash.slice(q + 1)) };
}

/** The current route, following hash changes (links and the back button). */
export function useRoute(): Route {
  const [route, setRoute] = useState(current);
  useEffect(() => {
    const update = () => setRoute(current());
    addEventListener('hashchange', update);
    return () => removeEventListener('hashchange', update);
  }, []);
  return route;
}

/** Go to `path` with `params` (empty values left out). Filters live in the hash, so a view can be bookmarked. */
export function navigate(path: string, params: Record<string, string | undefined> = {}): void {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v) q.set(k, v);
  const s = q.toString();
  location.hash = s ? `${path}?${s}` : path;
}
