import type { TargetConfig, TargetKind } from '../config/target.js';
import type { Publisher, PublisherDeps } from './publisher.js';
import type { SecretField } from './redaction.js';

/**
 * Everything about one target type, in one object exported by its file (`src/publishers/<kind>.ts`):
 * what the config loader needs (type, schema, checks; see `TargetKind`), the factory of its publisher,
 * and which of its fields are secrets. The registry lists them; nothing else names a type.
 */
export interface TargetDescriptor<T extends TargetConfig = TargetConfig> extends TargetKind<T> {
  /** Build the publisher of one validated target. */
  create(target: T, deps: PublisherDeps): Publisher;
  /** Its secret fields: redacted from everything that leaves the process, and shown as `<secret>`. */
  readonly secrets?: readonly SecretField[];
}
