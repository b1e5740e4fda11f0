/**
 * FindCoordinator (key 10), v0-6. v0-3 carry one key; v4+ a batch
 * (coordinatorKeys), answered one entry per key. Key type 0 (group, the
 * default before v1): this node, once `__consumer_offsets` exists (created on
 * first use, as Kafka does). Key type 1 (transaction): this node if a
 * transaction coordinator is registered (EndTxn handled), else
 * COORDINATOR_NOT_AVAILABLE. Other key types: INVALID_REQUEST.
 */
import { ErrorCode, errorInfo } from '../../protocol/error-codes.ts';
import type { FindCoordinatorRequest } from '../../protocol/generated/messages/find-coordinator-request.ts';
import type {
  FindCoordinatorResponse,
  FindCoordinatorResponse_Coordinator,
} from '../../protocol/generated/messages/find-coordinator-response.ts';
import type { Handler, RequestContext } from './types.ts';

const END_TXN_KEY = 26;

async function lookup(
  key: string,
  keyType: number,
  ctx: RequestContext,
): Promise<FindCoordinatorResponse_Coordinator> {
  const self = ctx.services.brokersFor(ctx.listenerName)[0]!;
  const answer = (errorCode: number): FindCoordinatorResponse_Coordinator => ({
    key,
    nodeId: errorCode === 0 ? self.nodeId : -1,
    host: errorCode === 0 ? self.host : '',
    port: errorCode === 0 ? self.port : -1,
    errorCode,
    errorMessage: errorCode === 0 ? null : (errorInfo(errorCode)?.description ?? null),
  });
  if (keyType === 0) return answer(await ctx.services.groups.availability(key));
  if (keyType === 1) {
    return answer(ctx.services.registry.get(END_TXN_KEY) ? 0 : ErrorCode.COORDINATOR_NOT_AVAILABLE);
  }
  return answer(ErrorCode.INVALID_REQUEST);
}

export const findCoordinatorHandler: Handler<FindCoordinatorRequest, FindCoordinatorResponse> = {
  apiKey: 10,
  minVersion: 0,
  maxVersion: 6,
  async handle(req, ctx) {
    const keyType = req.keyType ?? 0;
    if (ctx.apiVersion >= 4) {
      const coordinators = await Promise.all((req.coordinatorKeys ?? []).map((k) => lookup(k, keyType, ctx)));
      return { throttleTimeMs: 0, coordinators };
    }
    const c = await lookup(req.key ?? '', keyType, ctx);
    return {
      throttleTimeMs: 0,
      errorCode: c.errorCode,
      errorMessage: c.errorMessage,
      nodeId: c.nodeId,
      host: c.host,
      port: c.port,
    };
  },
};
