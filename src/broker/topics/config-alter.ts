/**
 * IncrementalAlterConfigs operations (KIP-339): SET, DELETE, APPEND and
 * SUBTRACT applied to a resource's current overrides, giving the complete new
 * set of overrides that TopicManager then validates and stores.
 */
import type { DynamicScope } from '../../common/config/broker-config.ts';
import type { ConfigDef } from '../../common/config/registry.ts';
import { ErrorCode, KafkaProtocolError } from '../../protocol/error-codes.ts';
import { brokerScope, ResourceType } from './config-describe.ts';
import { validateTopicName } from './topic-manager.ts';

export const ConfigOp = { SET: 0, DELETE: 1, APPEND: 2, SUBTRACT: 3 } as const;

export interface AlterOp {
  name: string;
  configOperation: number;
  value: string | null;
}

const splitList = (v: string | null | undefined): string[] =>
  (v ?? '')
    .split(',')
    .map((x) => x.trim())
    .filter((x) => x !== '');

/**
 * Applies `ops` to `current` (a resource's overrides). `effective(key)` is the
 * value a key has now when it is not overridden (APPEND/SUBTRACT start from
 * it). Values are validated afterwards, on the whole new set; here: duplicate
 * keys, unknown operations and a SET without a value are INVALID_REQUEST,
 * APPEND/SUBTRACT on a non-list config INVALID_CONFIG, and an unknown key
 * `unknownKeyCode` (Kafka: INVALID_CONFIG for topics, INVALID_REQUEST for
 * brokers).
 */
export function applyIncrementalOps(
  current: Readonly<Record<string, string>>,
  ops: readonly AlterOp[],
  defs: ReadonlyMap<string, ConfigDef>,
  effective: (key: string) => string | null,
  unknownKeyCode: number,
  kind: 'topic' | 'broker',
): Record<string, string> {
  const seen = new Set<string>();
  for (const op of ops) {
    if (!defs.has(op.name))
      throw new KafkaProtocolError(unknownKeyCode, `Unknown ${kind} config name: ${op.name}`);
    if (seen.has(op.name))
      throw new KafkaProtocolError(
        ErrorCode.INVALID_REQUEST,
        `Error due to duplicate config keys: ${op.name} appears more than once`,
      );
    seen.add(op.name);
  }
  const next: Record<string, string> = { ...current };
  for (const op of ops) {
    const def = defs.get(op.name);
    switch (op.configOperation) {
      case ConfigOp.SET:
        if (op.value === null)
          throw new KafkaProtocolError(ErrorCode.INVALID_REQUEST, `Null value not supported for: ${op.name}`);
        next[op.name] = op.value;
        break;
      case ConfigOp.DELETE:
        delete next[op.name];
        break;
      case ConfigOp.APPEND:
      case ConfigOp.SUBTRACT: {
        const verb = op.configOperation === ConfigOp.APPEND ? 'append' : 'subtract';
        if (def!.type !== 'list')
          throw new KafkaProtocolError(
            ErrorCode.INVALID_CONFIG,
            `Config value ${verb} is not allowed for config key: ${op.name} (it is a ${def!.type}, not a list)`,
          );
        const old = splitList(Object.hasOwn(current, op.name) ? current[op.name] : effective(op.name));
        const items = splitList(op.value);
        next[op.name] =
          op.configOperation === ConfigOp.APPEND
            ? [...old, ...items.filter((i, k) => !old.includes(i) && items.indexOf(i) === k)].join(',')
            : old.filter((i) => !items.includes(i)).join(',');
        break;
      }
      default:
        throw new KafkaProtocolError(
          ErrorCode.INVALID_REQUEST,
          `unknown config operation ${op.configOperation} for ${op.name} (0 SET, 1 DELETE, 2 APPEND, 3 SUBTRACT)`,
        );
    }
  }
  return next;
}

/** What an Alter*Configs resource names: a topic, or a dynamic broker config scope. */
export type AlterTarget = { kind: 'topic'; name: string } | { kind: 'broker'; scope: DynamicScope };

/** Resolves a resource (TOPIC 2, BROKER 4); throws INVALID_TOPIC_EXCEPTION / INVALID_REQUEST. */
export function alterTarget(resourceType: number, resourceName: string, nodeId: number): AlterTarget {
  switch (resourceType) {
    case ResourceType.TOPIC:
      validateTopicName(resourceName);
      return { kind: 'topic', name: resourceName };
    case ResourceType.BROKER:
      return { kind: 'broker', scope: brokerScope(resourceName, nodeId) };
    default:
      throw new KafkaProtocolError(ErrorCode.INVALID_REQUEST, `Unsupported resource type: ${resourceType}`);
  }
}

/** Indexes of resources named more than once in one request (each gets INVALID_REQUEST, as in Kafka). */
export function duplicateResources(
  resources: readonly { resourceType: number; resourceName: string }[],
): Set<number> {
  const count = new Map<string, number>();
  const key = (r: { resourceType: number; resourceName: string }) => `${r.resourceType}:${r.resourceName}`;
  for (const r of resources) count.set(key(r), (count.get(key(r)) ?? 0) + 1);
  const dup = new Set<number>();
  resources.forEach((r, i) => {
    if (count.get(key(r))! > 1) dup.add(i);
  });
  return dup;
}
