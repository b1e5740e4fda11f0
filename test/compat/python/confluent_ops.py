"""confluent-kafka-python (librdkafka) operations for the Samsa compat suite.

Usage: /usr/bin/python3 confluent_ops.py '{"op": "...", "bootstrap": "127.0.0.1:9092", ...}'
"""
import time

from common import b2s, deadline, emit, main, s2b
from confluent_kafka import (
    OFFSET_BEGINNING,
    OFFSET_END,
    Consumer,
    KafkaError,
    KafkaException,
    Producer,
    TopicPartition,
)
from confluent_kafka.admin import AdminClient, ConfigResource, NewTopic


def base(arg):
    return {"bootstrap.servers": arg["bootstrap"], "client.id": "samsa-compat-confluent", "log_level": 3}


def admin(arg):
    return AdminClient(base(arg))


def wait_futures(futures, timeout=20):
    out = {}
    for key, f in futures.items():
        try:
            r = f.result(timeout=timeout)
            out[str(key)] = {"ok": True, "result": r}
        except KafkaException as e:
            err = e.args[0]
            out[str(key)] = {"ok": False, "error": err.name() if hasattr(err, "name") else str(err)}
        except Exception as e:  # noqa: BLE001
            out[str(key)] = {"ok": False, "error": f"{type(e).__name__}: {e}"}
    return out


def op_version(arg):
    import confluent_kafka

    return {"version": confluent_kafka.version()[0], "librdkafka": confluent_kafka.libversion()[0]}


def op_create_topics(arg):
    topics = [
        NewTopic(t["name"], num_partitions=t.get("partitions", 1), replication_factor=1, config=t.get("configs", {}))
        for t in arg["topics"]
    ]
    a = admin(arg)  # keep the handle alive until the futures resolve
    res = wait_futures(a.create_topics(topics, operation_timeout=10, request_timeout=15))
    return {"results": {k: {"ok": v["ok"], "error": v.get("error")} for k, v in res.items()}}


def op_delete_topics(arg):
    a = admin(arg)
    res = wait_futures(a.delete_topics(arg["topics"], operation_timeout=10, request_timeout=15))
    return {"results": {k: {"ok": v["ok"], "error": v.get("error")} for k, v in res.items()}}


def op_list_topics(arg):
    a = admin(arg)
    md = a.list_topics(topic=arg.get("topic"), timeout=10)
    topics = {}
    for name, t in md.topics.items():
        topics[name] = {
            "error": t.error.name() if t.error else None,
            "partitions": sorted(t.partitions.keys()),
            "leaders": {str(p): pm.leader for p, pm in t.partitions.items()},
        }
    return {"cluster_id": md.cluster_id, "brokers": [b.id for b in md.brokers.values()], "topics": topics}


def op_produce(arg):
    conf = {**base(arg), "acks": "all", "linger.ms": 20, "message.timeout.ms": 20000}
    if arg.get("codec"):
        conf["compression.type"] = arg["codec"]
    conf.update(arg.get("conf", {}))
    p = Producer(conf)
    results = []

    def cb(err, msg):
        results.append(
            {
                "error": err.name() if err else None,
                "partition": msg.partition(),
                "offset": msg.offset(),
                "value": b2s(msg.value()),
            }
        )

    for r in arg["records"]:
        kw = {"key": s2b(r.get("key")), "value": s2b(r.get("value")), "on_delivery": cb}
        if "partition" in arg:
            kw["partition"] = arg["partition"]
        if r.get("headers"):
            kw["headers"] = [(k, s2b(v)) for k, v in r["headers"]]
        if r.get("timestamp") is not None:
            kw["timestamp"] = r["timestamp"]
        p.produce(arg["topic"], **kw)
        p.poll(0)
    left = p.flush(30)
    return {"delivered": results, "undelivered": left}


def consumer(arg, extra=None):
    conf = {
        **base(arg),
        "group.id": arg.get("group", "samsa-compat-confluent"),
        "enable.auto.commit": False,
        "enable.auto.offset.store": False,
        "fetch.wait.max.ms": 100,
        "auto.offset.reset": "earliest",
    }
    conf.update(extra or {})
    return Consumer(conf)


def op_consume(arg):
    """Assign (no group join) one partition at an offset and read `count` records."""
    c = consumer(arg, arg.get("conf"))
    start = arg.get("offset", "beginning")
    off = OFFSET_BEGINNING if start == "beginning" else int(start)
    c.assign([TopicPartition(arg["topic"], arg.get("partition", 0), off)])
    out = []
    errors = []
    alive = deadline(arg.get("timeout", 20))
    while len(out) < arg["count"] and alive():
        m = c.poll(0.2)
        if m is None:
            continue
        if m.error():
            if m.error().code() != KafkaError._PARTITION_EOF:
                errors.append(m.error().name())
            continue
        ts_type, ts = m.timestamp()
        out.append(
            {
                "offset": m.offset(),
                "partition": m.partition(),
                "key": b2s(m.key()),
                "value": b2s(m.value()),
                "headers": [[k, b2s(v)] for k, v in (m.headers() or [])],
                "timestamp": ts,
                "timestampType": ts_type,
            }
        )
    c.close()
    return {"records": out, "errors": errors}


def op_offsets_for_times(arg):
    c = consumer(arg)
    tps = [TopicPartition(arg["topic"], arg.get("partition", 0), int(ts)) for ts in arg["timestamps"]]
    out = []
    for tp in tps:
        r = c.offsets_for_times([tp], timeout=10)[0]
        out.append({"offset": r.offset, "error": r.error.name() if r.error else None})
    lo, hi = c.get_watermark_offsets(TopicPartition(arg["topic"], arg.get("partition", 0)), timeout=10)
    c.close()
    return {"offsets": out, "low": lo, "high": hi, "OFFSET_END": OFFSET_END}


def op_watermarks(arg):
    c = consumer(arg)
    lo, hi = c.get_watermark_offsets(TopicPartition(arg["topic"], arg.get("partition", 0)), timeout=10)
    c.close()
    return {"low": lo, "high": hi}


def config_resource(arg, **kw):
    kind = {"topic": ConfigResource.Type.TOPIC, "broker": ConfigResource.Type.BROKER}[arg["resource"]]
    return ConfigResource(kind, arg["name"], **kw)


def op_describe_configs(arg):
    a = admin(arg)
    res = a.describe_configs([config_resource(arg)], request_timeout=15)
    out = {}
    for _, f in res.items():
        entries = f.result(timeout=20)
        for name, e in entries.items():
            out[name] = {
                "value": e.value,
                "source": e.source,
                "is_default": e.is_default,
                "is_read_only": e.is_read_only,
                "is_sensitive": e.is_sensitive,
            }
    return {"configs": out}


def op_alter_configs(arg):
    a = admin(arg)
    res = a.alter_configs([config_resource(arg, set_config=arg["configs"])], request_timeout=15)
    for _, f in res.items():
        f.result(timeout=20)
    return {"ok": True}


def op_idempotent_stream(arg):
    """Produce values 0..count-1 with enable.idempotence, one every `interval` s,
    printing {"sent": i} lines; the test restarts the broker meanwhile."""
    conf = {
        **base(arg),
        "enable.idempotence": True,
        "acks": "all",
        "linger.ms": 5,
        "message.timeout.ms": 60000,
        "retry.backoff.ms": 100,
        "reconnect.backoff.ms": 50,
        "reconnect.backoff.max.ms": 500,
        "socket.timeout.ms": 3000,
    }
    conf.update(arg.get("conf", {}))
    p = Producer(conf)
    results = []

    def cb(err, msg):
        results.append({"error": err.name() if err else None, "offset": msg.offset(), "value": b2s(msg.value())})

    prefix = arg.get("prefix", "v")
    for i in range(arg["count"]):
        p.produce(arg["topic"], key=s2b(f"k{i % 7}"), value=s2b(f"{prefix}-{i}"), partition=0, on_delivery=cb)
        p.poll(0)
        if i % 10 == 0:
            emit({"sent": i, "acked": len(results)})
        time.sleep(arg.get("interval", 0.01))
    left = p.flush(60)
    return {"delivered": results, "undelivered": left}


main(
    {
        "version": op_version,
        "create_topics": op_create_topics,
        "delete_topics": op_delete_topics,
        "list_topics": op_list_topics,
        "produce": op_produce,
        "consume": op_consume,
        "offsets_for_times": op_offsets_for_times,
        "watermarks": op_watermarks,
        "describe_configs": op_describe_configs,
        "alter_configs": op_alter_configs,
        "idempotent_stream": op_idempotent_stream,
    }
)
