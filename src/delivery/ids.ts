import { randomUUID } from 'node:crypto';

/**
 * A UUIDv7 (RFC 9562): 48 bits of Unix milliseconds, then random bits. Ledger
 * ids are primary-key and unique-index entries; in time order each insert lands
 * on the indexes' last pages instead of a random page per id, so accepting a
 * notification writes fewer pages.
 */
export function uuidv7(now = Date.now()): string {
  // randomUUID() is xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx: keep its random bits and RFC variant, set version 7.
  return `${timePrefix(now)}${randomUUID().slice(15)}`;
}

let prefixAt = -1;
let prefix = '';

/** `tttttttt-tttt-7` for a millisecond, kept while it lasts: a notification takes several ids in the same one. */
function timePrefix(now: number): string {
  if (now !== prefixAt) {
    const time = now.toString(16).padStart(12, '0').slice(-12);
    prefix = `${time.slice(0, 8)}-${time.slice(8)}-7`;
    prefixAt = now;
  }
  return prefix;
}
