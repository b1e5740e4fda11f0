"""Golden-bytes scenario for confluent-kafka-python. Usage: confluent_client.py BOOTSTRAP GROUP

Run with Debian's /usr/bin/python3 (python3-confluent-kafka). Every wait is bounded.
"""
import sys
import time

from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient

bootstrap, group = sys.argv[1], sys.argv[2]
CODECS = ["none", "gzip", "snappy", "lz4", "zstd"]
TOPICS = ["golden-" + c for c in CODECS]
base = {"bootstrap.servers": bootstrap, "client.id": "golden-confluent", "log_level": 3}


def produce(conf, topic, records, transactional=False):
    p = Producer({**base, **conf})
    if transactional:
        p.init_transactions(10)
        p.begin_transaction()
    for key, value in records:
        p.produce(topic, key=key, value=value, partition=0, headers=[("h1", b"v1"), ("trace", b"golden")])
    if transactional:
        p.commit_transaction(10)
    left = p.flush(10)
    if left:
        print(f"confluent scenario: {left} records not delivered to {topic}", file=sys.stderr)


# Metadata through the admin client.
admin = AdminClient(base)
md = admin.list_topics(timeout=10)
print("topics:", sorted(t for t in md.topics if t.startswith("golden-")))

# One batch per codec.
for codec in CODECS:
    produce(
        {"compression.type": codec, "linger.ms": 50},
        "golden-" + codec,
        [(f"key-{i}", f"value {i} {codec}") for i in (1, 2, 3)],
    )
# Idempotent and transactional producers.
produce({"enable.idempotence": True}, "golden-none", [("key-i", "idempotent")])
try:
    produce({"transactional.id": "golden-confluent-txn"}, "golden-none", [("key-t", "transactional")], True)
except Exception as e:  # noqa: BLE001
    print(f"confluent scenario: transactional producer failed: {e}", file=sys.stderr)

# Group consumer with explicit synchronous commits.
c = Consumer(
    {
        **base,
        "group.id": group,
        "auto.offset.reset": "earliest",
        "enable.auto.commit": False,
        "session.timeout.ms": 10000,
        "heartbeat.interval.ms": 500,
        "fetch.wait.max.ms": 200,
    }
)
c.subscribe(TOPICS)
seen = 0
deadline = time.time() + 40
expected = len(CODECS) * 3 + 2
while seen < expected and time.time() < deadline:
    m = c.poll(0.5)
    if m is None or m.error():
        continue
    seen += 1
    c.commit(message=m, asynchronous=False)
# Watermarks (ListOffsets) and committed offsets (OffsetFetch).
print("watermarks:", c.get_watermark_offsets(TopicPartition("golden-none", 0), timeout=5))
print("committed:", [tp.offset for tp in c.committed([TopicPartition(t, 0) for t in TOPICS], timeout=5)])
time.sleep(1.2)  # let a heartbeat go out
c.close()
print(f"confluent scenario: consumed {seen}/{expected} records")
