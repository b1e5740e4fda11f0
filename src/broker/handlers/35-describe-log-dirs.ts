/**
 * DescribeLogDirs (key 35), v0-4.
 * v1 is v0; v2 flexible; v3 top-level errorCode; v4 totalBytes/usableBytes
 * per log dir (fs.statfs; -1 when unknown, e.g. memory storage). Null topics
 * means every hosted partition. Per partition: size on disk
 * (PartitionLog.size), offsetLag 0 (no future replicas), isFutureKey false.
 * An offline log dir is reported with KAFKA_STORAGE_ERROR and no topics.
 */
import { existsSync } from 'node:fs';
import { statfs } from 'node:fs/promises';
import { join } from 'node:path';
import { ErrorCode } from '../../protocol/error-codes.ts';
import type { DescribeLogDirsRequest } from '../../protocol/generated/messages/describe-log-dirs-request.ts';
import type {
  DescribeLogDirsResponse,
  DescribeLogDirsResponse_DescribeLogDirsResult,
  DescribeLogDirsResponse_DescribeLogDirsTopic,
} from '../../protocol/generated/messages/describe-log-dirs-response.ts';
import type { Partition } from '../replica/replica-manager.ts';
import type { Handler } from './types.ts';

async function space(dir: string): Promise<{ totalBytes: bigint; usableBytes: bigint }> {
  try {
    const s = await statfs(dir, { bigint: true });
    return { totalBytes: s.blocks * s.bsize, usableBytes: s.bavail * s.bsize };
  } catch {
    return { totalBytes: -1n, usableBytes: -1n };
  }
}

export const describeLogDirsHandler: Handler<DescribeLogDirsRequest, DescribeLogDirsResponse> = {
  apiKey: 35,
  minVersion: 0,
  maxVersion: 4,
  async handle(req, ctx) {
    const replicas = ctx.services.replicas;
    let wanted: Partition[];
    if (req.topics === null) wanted = replicas.all();
    else {
      wanted = [];
      for (const t of req.topics) {
        for (const p of t.partitions) {
          const part = replicas.get(t.topic, p);
          if (part) wanted.push(part);
        }
      }
    }
    const dirs = replicas.engine.dirs();
    const results: DescribeLogDirsResponse_DescribeLogDirsResult[] = [];
    for (const d of dirs) {
      const { totalBytes, usableBytes } =
        ctx.apiVersion >= 4 ? await space(d.dir) : { totalBytes: -1n, usableBytes: -1n };
      if (!d.online) {
        results.push({
          errorCode: ErrorCode.KAFKA_STORAGE_ERROR,
          logDir: d.dir,
          topics: [],
          totalBytes,
          usableBytes,
        });
        continue;
      }
      // With one log dir every partition is in it; with several, a partition lives where its directory is.
      const here =
        dirs.length === 1
          ? wanted
          : wanted.filter((p) => existsSync(join(d.dir, `${p.topic}-${p.partition}`)));
      const byTopic = new Map<string, DescribeLogDirsResponse_DescribeLogDirsTopic>();
      for (const p of here) {
        let t = byTopic.get(p.topic);
        if (!t) byTopic.set(p.topic, (t = { name: p.topic, partitions: [] }));
        t.partitions.push({
          partitionIndex: p.partition,
          partitionSize: BigInt(p.log.size),
          offsetLag: 0n,
          isFutureKey: false,
        });
      }
      results.push({ errorCode: 0, logDir: d.dir, topics: [...byTopic.values()], totalBytes, usableBytes });
    }
    return { throttleTimeMs: 0, errorCode: 0, results };
  },
};
