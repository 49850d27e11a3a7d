import type { IncomingMessage } from 'node:http';
import type { Duplex, Readable, Transform } from 'node:stream';
import zlib from 'node:zlib';
import type { NextFunction, Request, Response } from 'express';
import { jsonDeeperThan, mayHaveLoneSurrogates, MAX_JSON_DEPTH, wellFormedJson } from './json-text.js';

/** A body that could not be read; `type` follows body-parser's names, so Express error handlers treat both alike. */
export class BodyError extends Error {
  constructor(
    readonly status: number,
    readonly type: 'entity.too.large' | 'entity.parse.failed' | 'entity.too.deep' | 'charset.unsupported' | 'encoding.unsupported' | 'request.failed',
    message: string,
    readonly limit?: number,
  ) {
    super(message);
  }
}

// What req.is(['application/json', 'application/*+json']) accepts (type-is, media-typer), parameters ignored.
const JSON_TYPE = /^application\/(?:json|[a-z0-9][a-z0-9!#$&^_.+-]*\+json)$/;
const CHARSET = /;\s*charset\s*=\s*(?:"([^"]*)"|([^;\s]*))/i;
// Content-Encoding values express.json inflated (zstd where this Node has it).
const zstd = (zlib as { createZstdDecompress?: () => Transform }).createZstdDecompress;
const INFLATE: Record<string, (() => Transform) | undefined> = {
  gzip: () => zlib.createGunzip(),
  deflate: () => zlib.createInflate(),
  br: () => zlib.createBrotliDecompress(),
  ...(zstd ? { zstd } : {}),
};

/** Whether the request has a body declared as JSON: `application/json` or `application/*+json`, parameters allowed. */
export function isJsonRequest(req: IncomingMessage): boolean {
  // No Transfer-Encoding and no Content-Length: no body, as type-is decides.
  if (req.headers['transfer-encoding'] === undefined && Number.isNaN(Number(req.headers['content-length']))) return false;
  const header = req.headers['content-type'];
  if (!header) return false;
  const semi = header.indexOf(';');
  return JSON_TYPE.test((semi === -1 ? header : header.slice(0, semi)).trim().toLowerCase());
}

/** What reading a body changed: lone surrogates (`"\ud800"`) replaced by U+FFFD, as Go's decoder does. */
export interface BodyNotes {
  replacedSurrogates: number;
}

/**
 * Read and parse a JSON body of at most `limit` bytes (counted after decompression), as express.json did:
 * utf-* charsets, gzip/deflate/br, an empty body as `{}`, top-level primitives allowed. Never holds more than
 * `limit` bytes: a Content-Length over it is refused before reading, and past it the rest is discarded unread.
 * Nesting deeper than MAX_JSON_DEPTH is refused (400); lone surrogates are replaced (and counted in `notes`).
 */
export function readJsonBody(
  req: IncomingMessage,
  limit: number,
  done: (err: BodyError | undefined, body?: unknown, notes?: BodyNotes) => void,
): void {
  const charset = (CHARSET.exec(req.headers['content-type'] ?? '')?.slice(1).find(Boolean) ?? 'utf-8').toLowerCase();
  const decode = decoder(charset);
  if (!decode) return fail(req, req, done, new BodyError(415, 'charset.unsupported', `unsupported charset "${charset.toUpperCase()}"`));
  const encoding = (req.headers['content-encoding'] || 'identity').toLowerCase();
  const tooLarge = () => new BodyError(413, 'entity.too.large', 'request entity too large', limit);
  let stream: Readable = req;
  if (encoding !== 'identity') {
    const inflate = INFLATE[encoding];
    if (!inflate) return fail(req, req, done, new BodyError(415, 'encoding.unsupported', `unsupported content encoding "${encoding}"`));
    stream = req.pipe(inflate());
  } else if (Number(req.headers['content-length']) > limit) return fail(req, req, done, tooLarge());

  const chunks: Buffer[] = [];
  let received = 0;
  let settled = false;
  const onData = (chunk: Buffer) => {
    received += chunk.length;
    if (received > limit) settle(tooLarge());
    else chunks.push(chunk);
  };
  const onEnd = () => {
    const text = decode(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, received));
    if (text.length === 0) return settle(undefined, {});
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch (err) {
      return settle(new BodyError(400, 'entity.parse.failed', (err as Error).message));
    }
    if (jsonDeeperThan(body, MAX_JSON_DEPTH)) return settle(new BodyError(400, 'entity.too.deep', `JSON nested deeper than ${MAX_JSON_DEPTH} levels`));
    if (!mayHaveLoneSurrogates(text)) return settle(undefined, body);
    const fixed = wellFormedJson(body);
    settle(undefined, fixed.value, fixed.replaced ? { replacedSurrogates: fixed.replaced } : undefined);
  };
  const onError = (err: Error) => settle(new BodyError(400, 'request.failed', err.message));
  const settle = (err: BodyError | undefined, body?: unknown, notes?: BodyNotes) => {
    if (settled) return;
    settled = true;
    stream.off('data', onData).off('end', onEnd).off('error', onError);
    if (stream !== req) req.off('error', onError);
    if (err) fail(req, stream, done, err);
    else done(undefined, body, notes);
  };
  stream.on('data', onData).on('end', onEnd).on('error', onError);
  if (stream !== req) req.on('error', onError);
}

/** Give up on a body: stop inflating, let the rest of the request drain unread (the connection stays usable), report. */
function fail(req: IncomingMessage, stream: Readable, done: (err: BodyError) => void, err: BodyError): void {
  if (stream !== req) {
    req.unpipe(stream as Duplex);
    stream.on('error', () => undefined).destroy();
  }
  req.on('error', () => undefined).resume();
  done(err);
}

/** Bytes → text for a `utf-*` charset (a BOM dropped, as iconv-lite did), or undefined when it is not one we can decode. */
function decoder(charset: string): ((bytes: Buffer) => string) | undefined {
  if (charset === 'utf-8') return (b) => (b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf ? b.subarray(3) : b).toString('utf8');
  // RFC 8259 section 8.1: JSON is UTF-8; body-parser accepted any utf-*, so other UTF encodings still decode.
  if (!charset.startsWith('utf-')) return undefined;
  try {
    const d = new TextDecoder(charset);
    return (b) => d.decode(b);
  } catch {
    return undefined;
  }
}

/** Express middleware: `req.body` from a JSON request of at most `limit` bytes; other types are left unread (`req.body` undefined). Errors go to the app's error handler. */
export function jsonBody(limit: number) {
  return (req: Request, _res: Response, next: NextFunction): void => {
    if (req.readableEnded || !isJsonRequest(req)) return next();
    readJsonBody(req, limit, (err, body) => {
      if (err) return next(err);
      req.body = body;
      next();
    });
  };
}
