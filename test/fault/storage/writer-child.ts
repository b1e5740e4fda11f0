/**
 * Child process for the crash tests: appends genBatch(seq) forever to one
 * partition, printing `ack <seq> <baseOffset>` after each append resolves.
 * argv: <dir> <fsync:0|1> <segmentBytes>
 */
import { FileLogEngine } from '../../../src/storage/file/engine.ts';
import { genBatch, seqOf, TOPIC } from './workload.ts';

const [dir, fsync, segBytes] = process.argv.slice(2);
const engine = await FileLogEngine.open({
  dirs: [dir!],
  defaultConfig: { segmentBytes: Number(segBytes), fsyncBeforeAck: fsync === '1', indexIntervalBytes: 1024 },
});
const log = await engine.openLog(TOPIC, 0);
let seq = 0;
if (log.logEndOffset > 0) {
  // continue after the last batch that survived
  let off = log.logStartOffset;
  let last: Buffer | undefined;
  for (let guard = 0; guard < 1_000_000 && off < log.logEndOffset; guard++) {
    const r = await log.read(off, 1 << 20);
    if (r.batches.length === 0) break;
    last = r.batches[r.batches.length - 1];
    off = r.nextOffset;
  }
  if (last) seq = seqOf(last) + 1;
}
process.stdout.write(`ready ${seq} ${log.logEndOffset}\n`);
for (;;) {
  const r = await log.append(genBatch(seq));
  process.stdout.write(`ack ${seq} ${r.baseOffset}\n`);
  seq++;
  if (seq % 50 === 0) await new Promise((res) => setImmediate(res));
}
