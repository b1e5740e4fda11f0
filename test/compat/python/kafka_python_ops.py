"""kafka-python operations for the Samsa compat suite.

Usage: /usr/bin/python3 kafka_python_ops.py '{"op": "...", "bootstrap": "127.0.0.1:9092", ...}'
"""
import time

from common import b2s, deadline, emit, main, s2b
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import ConfigResource, ConfigResourceType, NewTopic
from kafka.errors import KafkaError, for_code


def common(arg):
    return {"bootstrap_servers": arg["bootstrap"], "client_id": "samsa-compat-kafka-python", "request_timeout_ms": 20000}


def admin(arg):
    return KafkaAdminClient(**common(arg))


def op_version(arg):
    import kafka

    a = admin(arg)
    v = a._client.check_version()
    a.close()
    return {"version": kafka.__version__, "broker_version_inferred": list(v)}


def op_create_topics(arg):
    a = admin(arg)
    topics = [
        NewTopic(t["name"], t.get("partitions", 1), 1, topic_configs=t.get("configs", {})) for t in arg["topics"]
    ]
    try:
        r = a.create_topics(topics, timeout_ms=15000)
        results = {name: {"error": for_code(code).__name__ if code else None} for name, code, *_ in r.topic_errors}
    except KafkaError as e:  # kafka-python raises on the first topic error
        results = {t.name: {"error": type(e).__name__} for t in topics}
    a.close()
    return {"results": results}


def op_delete_topics(arg):
    a = admin(arg)
    try:
        r = a.delete_topics(arg["topics"], timeout_ms=15000)
        results = {name: {"error": for_code(code).__name__ if code else None} for name, code, *_ in r.topic_error_codes}
    except KafkaError as e:
        results = {t: {"error": type(e).__name__} for t in arg["topics"]}
    a.close()
    return {"results": results}


def op_list_topics(arg):
    c = KafkaConsumer(**common(arg))
    topics = c.topics()
    out = {t: {"partitions": sorted(c.partitions_for_topic(t) or [])} for t in topics}
    c.close()
    return {"topics": out}


def op_describe_topics(arg):
    a = admin(arg)
    r = a.describe_topics(arg["topics"])
    a.close()
    return {
        "topics": {
            t["topic"]: {
                "error": for_code(t["error_code"]).__name__ if t["error_code"] else None,
                "partitions": sorted(p["partition"] for p in t["partitions"]),
            }
            for t in r
        }
    }


def op_produce(arg):
    conf = {**common(arg), "acks": "all", "linger_ms": 20}
    if arg.get("codec") and arg["codec"] != "none":
        conf["compression_type"] = arg["codec"]
    conf.update(arg.get("conf", {}))
    p = KafkaProducer(**conf)
    futures = []
    for r in arg["records"]:
        kw = {"key": s2b(r.get("key")), "value": s2b(r.get("value"))}
        if "partition" in arg:
            kw["partition"] = arg["partition"]
        if r.get("headers"):
            kw["headers"] = [(k, s2b(v)) for k, v in r["headers"]]
        if r.get("timestamp") is not None:
            kw["timestamp_ms"] = r["timestamp"]
        futures.append((r.get("value"), p.send(arg["topic"], **kw)))
    p.flush(timeout=30)
    out = []
    for value, f in futures:
        try:
            md = f.get(timeout=30)
            out.append({"error": None, "partition": md.partition, "offset": md.offset, "value": value})
        except Exception as e:  # noqa: BLE001
            out.append({"error": f"{type(e).__name__}: {e}", "value": value})
    p.close(timeout=10)
    return {"delivered": out}


def assigned_consumer(arg):
    c = KafkaConsumer(
        **common(arg),
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        fetch_max_wait_ms=100,
        consumer_timeout_ms=1000,
    )
    tp = TopicPartition(arg["topic"], arg.get("partition", 0))
    c.assign([tp])
    return c, tp


def op_consume(arg):
    c, tp = assigned_consumer(arg)
    start = arg.get("offset", "beginning")
    if start == "beginning":
        c.seek_to_beginning(tp)
    else:
        c.seek(tp, int(start))
    out = []
    alive = deadline(arg.get("timeout", 20))
    while len(out) < arg["count"] and alive():
        batch = c.poll(timeout_ms=200)
        for msgs in batch.values():
            for m in msgs:
                out.append(
                    {
                        "offset": m.offset,
                        "partition": m.partition,
                        "key": b2s(m.key),
                        "value": b2s(m.value),
                        "headers": [[k, b2s(v)] for k, v in (m.headers or [])],
                        "timestamp": m.timestamp,
                        "timestampType": m.timestamp_type,
                    }
                )
    c.close()
    return {"records": out, "errors": []}


def op_offsets_for_times(arg):
    c, tp = assigned_consumer(arg)
    out = []
    for ts in arg["timestamps"]:
        r = c.offsets_for_times({tp: int(ts)})[tp]
        out.append({"offset": r.offset if r is not None else None, "timestamp": r.timestamp if r is not None else None})
    lo = c.beginning_offsets([tp])[tp]
    hi = c.end_offsets([tp])[tp]
    c.close()
    return {"offsets": out, "low": lo, "high": hi}


def resource(arg, configs=None):
    kind = {"topic": ConfigResourceType.TOPIC, "broker": ConfigResourceType.BROKER}[arg["resource"]]
    return ConfigResource(kind, arg["name"], configs=configs)


def op_describe_configs(arg):
    a = admin(arg)
    responses = a.describe_configs([resource(arg)])
    a.close()
    out = {}
    errors = []
    for resp in responses:
        for res in resp.resources:
            error_code, error_message, _rtype, _rname, entries = res
            if error_code:
                errors.append(f"{for_code(error_code).__name__}: {error_message}")
            for e in entries:
                # v0: (name, value, read_only, is_default, is_sensitive); v1+: (name, value, read_only, source, is_sensitive, synonyms)
                out[e[0]] = {"value": e[1], "is_read_only": e[2], "source_or_default": e[3], "is_sensitive": e[4]}
    return {"configs": out, "errors": errors}


def op_alter_configs(arg):
    a = admin(arg)
    resp = a.alter_configs([resource(arg, arg["configs"])])
    a.close()
    errors = []
    for error_code, error_message, _rtype, _rname in resp.resources:
        if error_code:
            errors.append(f"{for_code(error_code).__name__}: {error_message}")
    if errors:
        raise RuntimeError("; ".join(errors))
    return {"ok": True}


def op_produce_stream(arg):
    """Produce values 0..count-1 with acks=all and retries, one every `interval` s,
    printing {"sent": i} lines; the test restarts the broker meanwhile."""
    conf = {
        **common(arg),
        "acks": "all",
        "retries": 1000,
        "retry_backoff_ms": 100,
        "reconnect_backoff_ms": 50,
        "reconnect_backoff_max_ms": 500,
        "max_in_flight_requests_per_connection": 1,
        "linger_ms": 5,
    }
    conf.update(arg.get("conf", {}))
    p = KafkaProducer(**conf)
    futures = []
    prefix = arg.get("prefix", "v")
    for i in range(arg["count"]):
        futures.append((f"{prefix}-{i}", p.send(arg["topic"], key=s2b(f"k{i % 7}"), value=s2b(f"{prefix}-{i}"), partition=0)))
        if i % 10 == 0:
            emit({"sent": i})
        time.sleep(arg.get("interval", 0.01))
    p.flush(timeout=60)
    out = []
    for value, f in futures:
        try:
            md = f.get(timeout=60)
            out.append({"error": None, "offset": md.offset, "value": value})
        except Exception as e:  # noqa: BLE001
            out.append({"error": f"{type(e).__name__}: {e}", "value": value})
    p.close(timeout=10)
    return {"delivered": out}


main(
    {
        "version": op_version,
        "create_topics": op_create_topics,
        "delete_topics": op_delete_topics,
        "list_topics": op_list_topics,
        "describe_topics": op_describe_topics,
        "produce": op_produce,
        "consume": op_consume,
        "offsets_for_times": op_offsets_for_times,
        "describe_configs": op_describe_configs,
        "alter_configs": op_alter_configs,
        "produce_stream": op_produce_stream,
    }
)
