/**
 * A kafkajs group member in its own process, for tests that kill a member
 * (SIGKILL: no LeaveGroup, no commit). Prints one JSON line per event:
 * {"joined":{...assignment}} and {"p":partition,"o":offset,"v":value}.
 *
 *   node group-member.ts <bootstrap> <topic> <groupId> <sessionTimeoutMs>
 */
import { kafkajs } from '../helpers/kafkajs.ts';

const [bootstrap, topic, groupId, session] = process.argv.slice(2) as [string, string, string, string];
const kafka = kafkajs(bootstrap, { clientId: 'samsa-group-member' });
const consumer = kafka.consumer({
  groupId,
  sessionTimeout: Number(session),
  heartbeatInterval: 200,
  maxWaitTimeInMs: 100,
});
consumer.on(consumer.events.GROUP_JOIN, (e) => {
  process.stdout.write(`${JSON.stringify({ joined: e.payload.memberAssignment })}\n`);
});
await consumer.connect();
await consumer.subscribe({ topic, fromBeginning: true });
await consumer.run({
  eachMessage: async ({ partition, message }) => {
    process.stdout.write(
      `${JSON.stringify({ p: partition, o: Number(message.offset), v: message.value?.toString() })}\n`,
    );
  },
});
