import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import express, { type Router } from 'express';
import { authorized, type AuthRule } from '../receiver/auth.js';
import { queryParams } from './input.js';

/** What the console routes need. */
export interface UiDeps {
  /** The built console (`npm run build` writes `dist/ui/`): index.html and assets/. */
  dir: string;
  /** The admin auth rule of the running config. */
  admin: () => AuthRule;
}

/** Asset names the build writes (`app-<hash>.js`, `app-<hash>.css`); nothing else is served from the folder. */
const ASSET = /^[A-Za-z0-9_-]+\.(js|css)$/;
const TYPES: Record<string, string> = { js: 'text/javascript; charset=utf-8', css: 'text/css; charset=utf-8' };
/**
 * Everything the console loads comes from this origin: it must work in an air-gapped cluster, and a script
 * of another origin would see the admin token.
 */
const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * The operator console: `/` redirects to `/ui/`, which serves the bundle built by `npm run build`; and
 * `GET /api/v1/ui/session`, open to all, telling the console whether a token is required, whether the one
 * it sent is right and whether actions are enabled (only with a configured admin token).
 */
export function createUiRouter(deps: UiDeps): Router {
  const router = express.Router();
  const cache = new Map<string, Buffer>();
  const load = async (file: string): Promise<Buffer | undefined> => {
    const hit = cache.get(file);
    if (hit) return hit;
    try {
      const body = await readFile(join(deps.dir, file));
      cache.set(file, body);
      return body;
    } catch {
      return undefined;
    }
  };
  const secure = (res: express.Response) => {
    res.setHeader('Content-Security-Policy', CSP);
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.setHeader('X-Frame-Options', 'DENY');
  };

  router.get('/', (_req, res) => void res.redirect(302, 'ui/'));
  // Express matches `/ui` here too; asset paths are relative to `/ui/`, so the slash is required.
  router.get('/ui/', async (req, res) => {
    if (!req.path.endsWith('/')) {
      res.redirect(301, './ui/');
      return;
    }
    const index = await load('index.html');
    secure(res);
    if (!index) {
      res.status(503).type('text/plain').send('the console is not built: run `npm run build` (it writes dist/ui/)');
      return;
    }
    res.setHeader('Cache-Control', 'no-cache');
    res.type('text/html; charset=utf-8').send(index);
  });
  router.get('/ui/assets/:file', async (req, res, next) => {
    const file = req.params['file'] ?? '';
    const body = ASSET.test(file) ? await load(join('assets', file)) : undefined;
    if (!body) return next();
    secure(res);
    // Names carry a content hash: a new build is new names, so a cached file is never stale.
    res.setHeader('Cache-Control', 'public, max-age=31536000, immutable');
    res.setHeader('Content-Type', TYPES[file.slice(file.lastIndexOf('.') + 1)] ?? 'application/octet-stream');
    res.send(body);
  });

  router.get('/api/v1/ui/session', queryParams(), (req, res) => {
    const rule = deps.admin();
    const tokenRequired = Boolean(rule.bearer_token);
    // Always 200, so a sign-in with a wrong token is an answer to show, not a failed request.
    const authenticated = tokenRequired && req.headers.authorization !== undefined && authorized({ bearer_token: rule.bearer_token }, req.headers.authorization);
    res.setHeader('Cache-Control', 'no-store');
    res.json({ tokenRequired, authenticated, actions: authenticated });
  });
  return router;
}
