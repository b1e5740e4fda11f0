"""A consumer-group member that runs until told to stop, for the group tests.

    /usr/bin/python3 group_member.py '<json>'

JSON: {"client": "confluent" | "kafka-python", "bootstrap", "topic", "group",
       "assignor" (confluent: range | roundrobin | cooperative-sticky;
                   kafka-python: range | roundrobin),
       "instance_id" (optional, static membership), "session_timeout_ms",
       "commit": "sync-each" | "auto" | "none", "seconds" (max run time)}

Prints one JSON line per event, flushed:
  {"ev": "ready"}
  {"ev": "assigned", "partitions": [...], "all": [...]}    (all = current assignment)
  {"ev": "revoked", "partitions": [...], "all": [...]}
  {"ev": "msg", "p": partition, "o": offset, "v": value}
  {"ev": "committed", "p": partition, "o": next offset}
  {"ev": "commit_error", "error": "..."}
  {"ev": "closed"}
SIGTERM closes the consumer cleanly (commits, and leaves unless static); SIGKILL is a crash.
"""
import json
import signal
import sys
import time

from common import emit

arg = json.loads(sys.argv[1])
stop = {"now": False}
signal.signal(signal.SIGTERM, lambda *_: stop.update(now=True))
end = time.monotonic() + arg.get("seconds", 120)
current = set()


def on_assign(parts):
    current.update(parts)
    emit({"ev": "assigned", "partitions": sorted(parts), "all": sorted(current)})


def on_revoke(parts):
    current.difference_update(parts)
    emit({"ev": "revoked", "partitions": sorted(parts), "all": sorted(current)})


def run_confluent():
    from confluent_kafka import Consumer, TopicPartition

    conf = {
        "bootstrap.servers": arg["bootstrap"],
        "group.id": arg["group"],
        "client.id": arg.get("client_id", "samsa-group-member"),
        "session.timeout.ms": arg.get("session_timeout_ms", 10000),
        "heartbeat.interval.ms": arg.get("heartbeat_interval_ms", 300),
        "partition.assignment.strategy": arg.get("assignor", "range"),
        "enable.auto.commit": arg.get("commit") == "auto",
        "auto.commit.interval.ms": 200,
        "auto.offset.reset": "earliest",
        "fetch.wait.max.ms": 100,
        "topic.metadata.refresh.interval.ms": 1000,
    }
    if arg.get("instance_id"):
        conf["group.instance.id"] = arg["instance_id"]
    c = Consumer(conf)
    cooperative = arg.get("assignor") == "cooperative-sticky"

    def assign_cb(consumer, parts):
        on_assign([p.partition for p in parts])
        if cooperative:
            consumer.incremental_assign(parts)
        else:
            consumer.assign(parts)

    def revoke_cb(consumer, parts):
        on_revoke([p.partition for p in parts])
        if cooperative:
            consumer.incremental_unassign(parts)
        else:
            consumer.unassign()

    c.subscribe([arg["topic"]], on_assign=assign_cb, on_revoke=revoke_cb, on_lost=revoke_cb)
    emit({"ev": "ready"})
    while not stop["now"] and time.monotonic() < end:
        m = c.poll(0.1)
        if m is None or m.error():
            continue
        emit({"ev": "msg", "p": m.partition(), "o": m.offset(), "v": (m.value() or b"").decode()})
        if arg.get("commit") == "sync-each":
            try:
                c.commit(offsets=[TopicPartition(m.topic(), m.partition(), m.offset() + 1)], asynchronous=False)
                emit({"ev": "committed", "p": m.partition(), "o": m.offset() + 1})
            except Exception as e:  # noqa: BLE001
                emit({"ev": "commit_error", "error": str(e)})
    c.close()
    emit({"ev": "closed"})


def run_kafka_python():
    from kafka import KafkaConsumer, OffsetAndMetadata, TopicPartition
    from kafka.consumer.subscription_state import ConsumerRebalanceListener
    from kafka.coordinator.assignors.range import RangePartitionAssignor
    from kafka.coordinator.assignors.roundrobin import RoundRobinPartitionAssignor

    assignors = {"range": RangePartitionAssignor, "roundrobin": RoundRobinPartitionAssignor}
    c = KafkaConsumer(
        bootstrap_servers=arg["bootstrap"],
        group_id=arg["group"],
        client_id=arg.get("client_id", "samsa-group-member"),
        session_timeout_ms=arg.get("session_timeout_ms", 10000),
        heartbeat_interval_ms=arg.get("heartbeat_interval_ms", 300),
        partition_assignment_strategy=[assignors[arg.get("assignor", "range")]],
        enable_auto_commit=arg.get("commit") == "auto",
        auto_commit_interval_ms=200,
        auto_offset_reset="earliest",
        fetch_max_wait_ms=100,
        metadata_max_age_ms=1000,
    )

    class Listener(ConsumerRebalanceListener):
        def on_partitions_revoked(self, revoked):
            on_revoke([tp.partition for tp in revoked])

        def on_partitions_assigned(self, assigned):
            on_assign([tp.partition for tp in assigned])

    c.subscribe([arg["topic"]], listener=Listener())
    emit({"ev": "ready"})
    while not stop["now"] and time.monotonic() < end:
        batches = c.poll(timeout_ms=100)
        for tp, msgs in batches.items():
            for m in msgs:
                emit({"ev": "msg", "p": m.partition, "o": m.offset, "v": (m.value or b"").decode()})
                if arg.get("commit") == "sync-each":
                    try:
                        c.commit({TopicPartition(tp.topic, tp.partition): OffsetAndMetadata(m.offset + 1, "")})
                        emit({"ev": "committed", "p": m.partition, "o": m.offset + 1})
                    except Exception as e:  # noqa: BLE001
                        emit({"ev": "commit_error", "error": str(e)})
    c.close()
    emit({"ev": "closed"})


if arg.get("client", "confluent") == "confluent":
    run_confluent()
else:
    run_kafka_python()
