import { Ajv } from 'ajv';
import type { WebhookMessage } from '../alerts/types.js';

const labelSet = { type: 'object', additionalProperties: { type: 'string' } } as const;

/**
 * Alertmanager's webhook payload, version "4" (`notify/webhook.Message`).
 * Unknown extra fields (`notification_reason`, ...) are accepted; `routeLabels` (Alertmanager >= 0.34) must be a label set.
 */
export const webhookSchema = {
  type: 'object',
  required: ['version', 'status', 'receiver', 'groupKey', 'alerts'],
  properties: {
    version: { const: '4' },
    groupKey: { type: 'string', minLength: 1 },
    truncatedAlerts: { type: 'integer', minimum: 0 },
    status: { enum: ['firing', 'resolved'] },
    receiver: { type: 'string' },
    groupLabels: labelSet,
    commonLabels: labelSet,
    commonAnnotations: labelSet,
    // Alertmanager >= 0.34: the labels of the route that matched (targets select on them with `match_route`).
    routeLabels: { ...labelSet, nullable: true },
    externalURL: { type: 'string' },
    alerts: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        required: ['status', 'labels', 'startsAt'],
        properties: {
          status: { enum: ['firing', 'resolved'] },
          labels: labelSet,
          annotations: labelSet,
          startsAt: { type: 'string', minLength: 1 },
          endsAt: { type: 'string' },
          generatorURL: { type: 'string' },
          fingerprint: { type: 'string' },
        },
      },
    },
  },
} as const;

const ajv = new Ajv({ allErrors: true, strict: true });
const validate = ajv.compile(webhookSchema);

/**
 * Validate a parsed body. On success returns a normalised copy (missing optional
 * maps filled, zero `endsAt` kept as Alertmanager sent it); on failure, the
 * validator's messages.
 */
export function validateWebhook(body: unknown): { ok: true; message: WebhookMessage } | { ok: false; errors: string[] } {
  if (!validate(body)) {
    const errors = (validate.errors ?? []).slice(0, 20).map((e) => {
      if (e.keyword === 'required') return `${e.instancePath || '/'}: must have required property '${String(e.params['missingProperty'])}'`;
      if (e.keyword === 'const') return `${e.instancePath}: must be "4" (Alertmanager webhook payload version 4)`;
      if (e.keyword === 'enum') return `${e.instancePath}: must be one of ${(e.params['allowedValues'] as string[]).join(', ')}`;
      return `${e.instancePath || '/'}: ${e.message ?? 'is invalid'}`;
    });
    if (isCaptureFile(body)) errors.unshift('this looks like a capture file ({capturedFrom, requestHeaders, body}): post its "body" instead');
    return { ok: false, errors };
  }
  const b = body as unknown as WebhookMessage;
  return {
    ok: true,
    message: {
      ...b,
      groupLabels: b.groupLabels ?? {},
      commonLabels: b.commonLabels ?? {},
      commonAnnotations: b.commonAnnotations ?? {},
      externalURL: b.externalURL ?? '',
      alerts: b.alerts.map((a) => ({ ...a, annotations: a.annotations ?? {}, endsAt: a.endsAt ?? '', fingerprint: a.fingerprint ?? '' })),
    },
  };
}

function isCaptureFile(body: unknown): boolean {
  return typeof body === 'object' && body !== null && 'body' in body && 'capturedFrom' in body;
}
