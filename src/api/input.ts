import type { NextFunction, Request, Response } from 'express';

/** Reads one query parameter's text: undefined when valid, else why not. */
export type ParamCheck = (value: string) => string | undefined;

/** One of `values`. */
export const oneOf =
  (values: readonly string[]): ParamCheck =>
  (v) =>
    values.includes(v) ? undefined : `must be one of ${values.join(', ')}`;

/** A whole number from `min` to `max`, written as digits. */
export const integer =
  (min: number, max: number): ParamCheck =>
  (v) =>
    /^\d{1,15}$/.test(v) && Number(v) >= min && Number(v) <= max ? undefined : `must be a whole number from ${min} to ${max}`;

/** A non-empty name or id. */
export const text: ParamCheck = (v) => (v.length > 0 && v.length <= 256 ? undefined : 'must be 1 to 256 characters');

/**
 * Middleware: every query parameter is one of `spec`, given once, and passes its check;
 * anything else is 400 with the reason (a typo such as `?status=dead` would otherwise
 * silently list everything).
 */
export function queryParams(spec: Record<string, ParamCheck> = {}) {
  // Typed by what it reads, so a route's own handler keeps the parameter types of its path.
  return (req: Pick<Request, 'query'>, res: Response, next: NextFunction): void => {
    const problem = queryProblem(req.query as Record<string, unknown>, spec);
    if (problem) res.status(400).json({ error: problem });
    else next();
  };
}

/** Why `query` does not fit `spec`, or undefined. */
export function queryProblem(query: Record<string, unknown>, spec: Record<string, ParamCheck>): string | undefined {
  const known = Object.keys(spec);
  for (const [name, value] of Object.entries(query)) {
    const check = Object.hasOwn(spec, name) ? spec[name] : undefined;
    if (!check) return `unknown query parameter "${name}"${known.length ? ` (known: ${known.join(', ')})` : ' (this route takes none)'}`;
    if (typeof value !== 'string') return `query parameter ${name} must be given once, as text`;
    const why = check(value);
    if (why) return `query parameter ${name} ${why}`;
  }
  return undefined;
}

/**
 * The JSON body as an object (`{}` when there is none), or a 4xx: 415 for a body that is
 * not declared as JSON, 400 for one that is not an object or has fields outside `fields`.
 */
export function bodyObject(req: Request, fields: readonly string[]): { ok: true; body: Record<string, unknown> } | { ok: false; status: number; error: string } {
  const body: unknown = req.body;
  if (body === undefined) {
    const hasBody = req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
    return hasBody ? { ok: false, status: 415, error: 'the body must be JSON (Content-Type: application/json)' } : { ok: true, body: {} };
  }
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return { ok: false, status: 400, error: 'the body must be a JSON object' };
  const unknown = Object.keys(body).filter((k) => !fields.includes(k));
  if (unknown.length) return { ok: false, status: 400, error: `unknown field(s) ${unknown.join(', ')} (known: ${fields.join(', ')})` };
  return { ok: true, body: body as Record<string, unknown> };
}

/**
 * 405 with the methods a route takes, for a request to one of `allowed`'s paths with another
 * method (`GET /-/reload`, as Prometheus and Alertmanager answer it). Goes after the routes.
 */
export function methodNotAllowed(allowed: Record<string, string>) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const allow = Object.hasOwn(allowed, req.path) ? allowed[req.path] : undefined;
    if (allow === undefined) return next();
    res.status(405).set('Allow', allow).type('text/plain').send(`method not allowed; use ${allow.split(', ')[0]}`);
  };
}
