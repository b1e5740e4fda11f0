"""Golden-bytes scenario for kafka-python. Usage: kafka_python_client.py BOOTSTRAP GROUP

Run with Debian's /usr/bin/python3 (python3-kafka, python3-snappy, python3-lz4,
python3-zstandard for the codecs). Every wait is bounded.
"""
import sys
import time

from kafka import KafkaConsumer, KafkaProducer, TopicPartition

bootstrap, group = sys.argv[1], sys.argv[2]
CODECS = ["none", "gzip", "snappy", "lz4", "zstd"]
TOPICS = ["golden-" + c for c in CODECS]
common = {"bootstrap_servers": bootstrap, "client_id": "golden-kafka-python", "request_timeout_ms": 10000}

for codec in CODECS:
    p = KafkaProducer(**common, compression_type=None if codec == "none" else codec, linger_ms=50, acks="all")
    for i in (1, 2, 3):
        p.send(
            "golden-" + codec,
            key=f"key-{i}".encode(),
            value=f"value {i} {codec}".encode(),
            partition=0,
            headers=[("h1", b"v1"), ("trace", b"golden")],
        )
    p.flush(10)
    p.close(10)

# acks=1 and acks=0.
for acks in (1, 0):
    p = KafkaProducer(**common, acks=acks)
    p.send("golden-none", key=f"k-acks{acks}".encode(), value=f"acks={acks}".encode(), partition=0)
    p.flush(10)
    p.close(10)

# Group consumer, manual commits.
c = KafkaConsumer(
    **{**common, "request_timeout_ms": 15000},
    group_id=group,
    auto_offset_reset="earliest",
    enable_auto_commit=False,
    session_timeout_ms=10000,
    heartbeat_interval_ms=500,
    fetch_max_wait_ms=200,
    consumer_timeout_ms=1000,
)
c.subscribe(TOPICS)
seen = 0
expected = len(CODECS) * 3 + 2
deadline = time.time() + 40
while seen < expected and time.time() < deadline:
    batch = c.poll(timeout_ms=500)
    for records in batch.values():
        seen += len(records)
    if batch:
        c.commit()
print("end offsets:", c.end_offsets([TopicPartition("golden-none", 0)]))
print("committed:", c.committed(TopicPartition("golden-none", 0)))
time.sleep(1.2)  # let a heartbeat go out
c.close()
print(f"kafka-python scenario: consumed {seen}/{expected} records")
