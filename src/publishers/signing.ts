import { createHmac } from 'node:crypto';

/** Standard Webhooks symmetric secrets look like `whsec_<base64>`; the HMAC key is the decoded bytes. */
export function signingKey(secret: string): Buffer {
  return Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
}

/**
 * Standard Webhooks headers for one attempt: `webhook-id` stays the same across
 * retries, `webhook-timestamp` is the attempt's, and the signature covers
 * `${id}.${timestamp}.${body}` (the exact bytes sent).
 * https://github.com/standard-webhooks/standard-webhooks/blob/main/spec/standard-webhooks.md
 */
export function signatureHeaders(key: Buffer, id: string, timestampSeconds: number, body: string): Record<string, string> {
  const signature = createHmac('sha256', key).update(`${id}.${timestampSeconds}.${body}`).digest('base64');
  return {
    'webhook-id': id,
    'webhook-timestamp': String(timestampSeconds),
    'webhook-signature': `v1,${signature}`,
  };
}
