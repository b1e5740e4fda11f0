/**
 * InitProducerId (key 22), v0-5.
 *
 * Version notes: v2 is flexible; v3 adds producerId/producerEpoch (KIP-360,
 * so a transactional producer can bump its epoch after an abortable error);
 * v4 lets clients see PRODUCER_FENCED; v5 is for KIP-890 (transactions v2).
 *
 * Without a transactional id this is the idempotent producer: Kafka's
 * TransactionCoordinator "blindly accepts" it and returns a fresh producer id
 * with epoch 0, ignoring any producerId/epoch given (an idempotent producer
 * bumps its epoch locally, KIP-360), and so do we. A producerId without an
 * epoch or the reverse is INVALID_REQUEST, as is an empty transactional id.
 *
 * A non-empty transactional id needs the transaction coordinator, which comes
 * with the transactions issue. Until then the answer is
 * COORDINATOR_NOT_AVAILABLE (15): what Kafka says while __transaction_state is
 * not available; clients treat it as retriable and give up at their
 * transaction timeout instead of mis-using an id.
 */
import { ErrorCode } from '../../protocol/error-codes.ts';
import type { InitProducerIdRequest } from '../../protocol/generated/messages/init-producer-id-request.ts';
import type { InitProducerIdResponse } from '../../protocol/generated/messages/init-producer-id-response.ts';
import type { Handler } from './types.ts';

const error = (errorCode: number): InitProducerIdResponse => ({
  throttleTimeMs: 0,
  errorCode,
  producerId: -1n,
  producerEpoch: -1,
});

export const initProducerIdHandler: Handler<InitProducerIdRequest, InitProducerIdResponse> = {
  apiKey: 22,
  minVersion: 0,
  maxVersion: 5,
  async handle(req, ctx) {
    const producerId = req.producerId ?? -1n;
    const producerEpoch = req.producerEpoch ?? -1;
    if ((producerId === -1n) !== (producerEpoch === -1)) return error(ErrorCode.INVALID_REQUEST);
    if (req.transactionalId === null) {
      const id = await ctx.services.producerIds.generate();
      return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, producerId: id, producerEpoch: 0 };
    }
    if (req.transactionalId === '') return error(ErrorCode.INVALID_REQUEST);
    return error(ErrorCode.COORDINATOR_NOT_AVAILABLE);
  },
};
