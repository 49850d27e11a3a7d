import type { SecretField } from './redaction.js';
import { secretString } from '../config/target.js';

/** Outbound HTTP auth a target may send: a bearer token, or basic auth. */
export interface HttpAuth {
  bearer_token?: string;
  basic_auth?: { username: string; password: string };
}

/** Schema properties of HttpAuth; `bearer_token` wins when both are set. */
export const httpAuthProperties = {
  bearer_token: { ...secretString, description: 'Sent as `Authorization: Bearer <token>` (wins over basic_auth).' },
  basic_auth: {
    type: 'object',
    additionalProperties: false,
    required: ['username', 'password'],
    description: 'HTTP basic auth.',
    properties: { username: { type: 'string' }, password: secretString },
  },
} as const;

/** Secret fields of HttpAuth. */
export const httpAuthSecrets: readonly SecretField[] = [
  { path: 'bearer_token', shape: 'bearer' },
  { path: 'basic_auth', shape: 'basic' },
];

/** The Authorization header of `auth`, if any. */
export function authHeaders(auth: HttpAuth): Record<string, string> {
  if (auth.bearer_token) return { authorization: `Bearer ${auth.bearer_token}` };
  if (!auth.basic_auth) return {};
  const { username, password } = auth.basic_auth;
  return { authorization: `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}` };
}
