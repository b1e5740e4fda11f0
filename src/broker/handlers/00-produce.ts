/**
 * Produce (key 0), v3-11.
 *
 * Version notes: Kafka 4 removed v0-v2 (KIP-896), so every batch is a v2
 * RecordBatch and each partition carries exactly one. v3 adds
 * transactionalId; v5 logStartOffset; v7 allows zstd; v8 recordErrors and
 * errorMessage; v9 is flexible; v10 adds currentLeader / nodeEndpoints
 * (KIP-951, sent with NOT_LEADER_OR_FOLLOWER); v11 only signals KIP-1084.
 *
 * acks other than -1/0/1: INVALID_REQUIRED_ACKS on every partition. acks=0
 * gets no response; if a partition failed, the connection is closed instead
 * (as Kafka does, so the producer notices and refreshes metadata).
 * The work is done by replica/append.ts; partitions of one request are
 * appended concurrently, each in its partition's serial queue.
 */
import { ErrorCode, KafkaProtocolError } from '../../protocol/error-codes.ts';
import type { ProduceRequest } from '../../protocol/generated/messages/produce-request.ts';
import type {
  ProduceResponse,
  ProduceResponse_NodeEndpoint,
  ProduceResponse_PartitionProduceResponse,
  ProduceResponse_TopicProduceResponse,
} from '../../protocol/generated/messages/produce-response.ts';
import type { PartitionProduceResult } from '../replica/append.ts';
import { type Handler, NO_RESPONSE } from './types.ts';

const NONE: readonly never[] = Object.freeze([]);

function toResponse(index: number, r: PartitionProduceResult): ProduceResponse_PartitionProduceResponse {
  return {
    index,
    errorCode: r.errorCode,
    baseOffset: BigInt(r.baseOffset),
    logAppendTimeMs: r.logAppendTimeMs === -1 ? -1n : BigInt(r.logAppendTimeMs),
    logStartOffset: BigInt(r.logStartOffset),
    recordErrors:
      r.recordErrors.length === 0
        ? (NONE as never[])
        : r.recordErrors.map((e) => ({
            batchIndex: e.batchIndex,
            batchIndexErrorMessage: e.message,
          })),
    errorMessage: r.errorMessage,
  };
}

export const produceHandler: Handler<ProduceRequest, ProduceResponse> = {
  apiKey: 0,
  minVersion: 3,
  maxVersion: 11,
  async handle(req, ctx) {
    const { services, apiVersion } = ctx;
    const acks = req.acks;
    const validAcks = acks === -1 || acks === 0 || acks === 1;
    const responses: ProduceResponse_TopicProduceResponse[] = [];
    const pending: Promise<void>[] = [];
    for (const t of req.topicData) {
      const parts: ProduceResponse_PartitionProduceResponse[] = [];
      responses.push({ name: t.name, partitionResponses: parts });
      for (const p of t.partitionData) {
        const slot = parts.length;
        if (!validAcks) {
          parts.push({
            index: p.index,
            errorCode: ErrorCode.INVALID_REQUIRED_ACKS,
            baseOffset: -1n,
            logAppendTimeMs: -1n,
            logStartOffset: -1n,
            recordErrors: [],
            errorMessage: null,
          });
          continue;
        }
        parts.push(undefined as unknown as ProduceResponse_PartitionProduceResponse);
        pending.push(
          services.appender
            .append({
              topic: t.name,
              partition: p.index,
              records: p.records,
              acks,
              timeoutMs: req.timeoutMs,
              apiVersion,
              clientId: ctx.clientId,
            })
            .then((r) => {
              parts[slot] = toResponse(p.index, r);
            }),
        );
      }
    }
    await Promise.all(pending);

    let firstError: number = ErrorCode.NONE;
    let notLeader = false;
    for (const t of responses) {
      for (const p of t.partitionResponses) {
        if (firstError === ErrorCode.NONE) firstError = p.errorCode;
        if (p.errorCode === ErrorCode.NOT_LEADER_OR_FOLLOWER) {
          notLeader = true;
          const info = services.topics.get(t.name)?.partitions.find((x) => x.partition === p.index);
          if (info) p.currentLeader = { leaderId: info.leader, leaderEpoch: info.leaderEpoch };
        }
      }
    }
    if (acks === 0) {
      if (firstError !== ErrorCode.NONE) {
        throw new KafkaProtocolError(
          firstError,
          'acks=0 produce failed on a partition; closing the connection as Kafka does',
        );
      }
      return NO_RESPONSE;
    }
    const nodeEndpoints: ProduceResponse_NodeEndpoint[] = notLeader
      ? services
          .brokersFor(ctx.listenerName)
          .map((b) => ({ nodeId: b.nodeId, host: b.host, port: b.port, rack: b.rack }))
      : [];
    return { responses, throttleTimeMs: 0, nodeEndpoints };
  },
};
