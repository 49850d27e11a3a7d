import { createHash, timingSafeEqual } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';

/** Constant-time string equality (hashing first makes the lengths equal). */
export function safeEqual(a: string, b: string): boolean {
  const ha = createHash('sha256').update(a).digest();
  const hb = createHash('sha256').update(b).digest();
  return timingSafeEqual(ha, hb);
}

/** What a request must present; an empty object lets everything through. */
export interface AuthRule {
  bearer_token?: string;
  basic_auth?: { username: string; password: string };
}

/** Whether the Authorization header satisfies `rule` (either kind is enough when both are configured). */
export function authorized(rule: AuthRule, header: string | undefined): boolean {
  if (!rule.bearer_token && !rule.basic_auth) return true;
  if (!header) return false;
  const [scheme = '', value = ''] = header.split(/\s+/, 2);
  if (rule.bearer_token && scheme.toLowerCase() === 'bearer') return safeEqual(value, rule.bearer_token);
  if (rule.basic_auth && scheme.toLowerCase() === 'basic') {
    const expected = `${rule.basic_auth.username}:${rule.basic_auth.password}`;
    return safeEqual(Buffer.from(value, 'base64').toString('utf8'), expected);
  }
  return false;
}

/** The WWW-Authenticate hint that goes with a 401 for `rule`. */
export function authChallenge(rule: AuthRule): string {
  return rule.bearer_token ? 'Bearer realm="alertmux"' : 'Basic realm="alertmux"';
}

/** Express middleware: 401 with a WWW-Authenticate hint unless `rule()` is satisfied. */
export function requireAuth(rule: () => AuthRule) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const r = rule();
    if (authorized(r, req.headers.authorization)) return next();
    res.setHeader('WWW-Authenticate', authChallenge(r));
    res.status(401).json({ error: 'unauthorized' });
  };
}
