"""Recording queue client for fault tests (confluent-kafka-python / librdkafka).

Run as `/usr/bin/python3 queue_client.py '<json>'`. Prints one JSON object
per line on stdout:
  {"ev": {...}}      a history event (test/support/checker/history.ts fields:
                     process, type, f, mops, producer, keys, seek, error)
  {"status": ...}    progress and the final summary ({"status": "done", ...})
Stops when stdin says "stop" (or closes), or after "maxSeconds". A consumer
also takes "seek <partition>" (back to the beginning, recorded as an assign
with seek: the test destroyed data there). Every wait is bounded.

Roles ("role"):
  produce  idempotent, acks=all, max.in.flight=5 producer; values p{pid}-{seq};
           one history process per message ("p{pid}#{seq}"), producer "p{pid}";
           delivered -> ok with the offset; purged before sending -> fail;
           any other error -> info (the write may or may not have happened)
  consume  assign-mode consumer (read_committed) over every partition from
           the beginning; one ok poll op per consume() call that returned records
  drain    like consume, with a fresh consumer, until every partition's
           position reaches the high watermark measured at its start
"""
import json
import queue
import sys
import threading
import time

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, KafkaException, Producer, TopicPartition

stop = threading.Event()
commands = queue.Queue()


def out(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


def ev(**fields):
    out({"ev": fields})


def watch_stdin():
    for line in sys.stdin:
        if line.strip() == "stop":
            break
        commands.put(line.strip())
    stop.set()


def key(topic, partition):
    return f"{topic}/{partition}"


def common(arg):
    return {
        "bootstrap.servers": arg["bootstrap"],
        "client.id": f"samsa-fault-{arg['role']}-{arg['pid']}",
        "socket.timeout.ms": 5000,
        "reconnect.backoff.ms": 50,
        "reconnect.backoff.max.ms": 500,
        "topic.metadata.refresh.interval.ms": 2000,
        "log_level": 3,
    }


def produce(arg):
    topic = arg["topic"]
    conf = common(arg)
    conf.update(
        {
            "enable.idempotence": True,
            "acks": "all",
            "max.in.flight.requests.per.connection": 5,
            "linger.ms": int(arg.get("lingerMs", 5)),
            "message.timeout.ms": int(arg.get("messageTimeoutMs", 30000)),
            "retry.backoff.ms": 100,
        }
    )
    fatal = []

    def on_error(err):
        if err.fatal():
            fatal.append(str(err))
            out({"status": "fatal", "error": str(err)})

    conf["error_cb"] = on_error
    p = Producer(conf)
    counts = {"ok": 0, "info": 0, "fail": 0}

    def report(proc, value, part):
        def cb(err, msg):
            mop = {"f": "send", "key": key(topic, part), "value": value}
            if err is None:
                mop["offset"] = msg.offset()
                counts["ok"] += 1
                ev(process=proc, type="ok", f="send", mops=[mop])
            else:
                kind = "fail" if err.code() == KafkaError._PURGE_QUEUE else "info"
                counts[kind] += 1
                ev(process=proc, type=kind, f="send", mops=[mop], error=str(err))

        return cb

    state = {"seq": 0}
    try:
        produce_loop(arg, p, report, fatal, state)
    except KafkaException as e:  # a fatal error surfaced through poll()
        fatal.append(str(e))
    left = -1
    try:
        left = p.flush(float(arg.get("flushSeconds", 10)))
        if left:
            p.purge(in_queue=True, in_flight=False)
            p.poll(0.5)
    except KafkaException as e:
        fatal.append(str(e))
    out({"status": "done", "sent": state["seq"], "counts": counts, "unflushed": left, "fatal": fatal})


def produce_loop(arg, p, report, fatal, state):
    topic, parts, pid = arg["topic"], arg["partitions"], arg["pid"]
    rate = float(arg.get("rate", 200))
    t0 = time.monotonic()
    end = t0 + float(arg.get("maxSeconds", 120))
    while not stop.is_set() and time.monotonic() < end and not fatal:
        due = int((time.monotonic() - t0) * rate) + 1
        while state["seq"] < due and not stop.is_set():
            seq = state["seq"]
            state["seq"] += 1
            value = f"p{pid}-{seq}"
            part = parts[seq % len(parts)]
            proc = f"p{pid}#{seq}"
            mops = [{"f": "send", "key": key(topic, part), "value": value}]
            ev(process=proc, type="invoke", f="send", producer=f"p{pid}", mops=mops)
            try:
                try:
                    p.produce(topic, value=value.encode(), partition=part, on_delivery=report(proc, value, part))
                except BufferError:
                    p.poll(0.05)
                    p.produce(topic, value=value.encode(), partition=part, on_delivery=report(proc, value, part))
            except Exception as e:  # noqa: BLE001 (nothing was queued)
                ev(process=proc, type="fail", f="send", mops=mops, error=f"produce() raised {e}")
        p.poll(0.01)


def consumer_conf(arg, group_suffix):
    conf = common(arg)
    conf.update(
        {
            "group.id": f"samsa-fault-unused-{group_suffix}",
            "enable.auto.commit": False,
            "enable.auto.offset.store": False,
            "isolation.level": arg.get("isolation", "read_committed"),
            # an out-of-range position is never silently reset: it is reported
            # (status "offset-reset") and the consumer seeks to the beginning
            "auto.offset.reset": "error",
            "enable.partition.eof": False,
            "fetch.wait.max.ms": 100,
            "session.timeout.ms": 6000,
        }
    )
    return conf


def seek_beginning(c, arg, proc, partition, why):
    topic, parts = arg["topic"], arg["partitions"]
    keys = [key(topic, p) for p in parts]
    moved = [key(topic, partition)]
    ev(process=proc, type="invoke", f="assign", keys=keys, seek=moved, note=why)
    c.seek(TopicPartition(topic, partition, OFFSET_BEGINNING))
    ev(process=proc, type="ok", f="assign", keys=keys, seek=moved)
    out({"status": "seeked", "partition": partition, "why": why})


def poll_loop(c, arg, proc, done):
    topic = arg["topic"]
    polls = 0
    records = 0
    errors = []
    resets = 0
    while not done():
        while not commands.empty():
            cmd = commands.get().split()
            if len(cmd) == 2 and cmd[0] == "seek":
                seek_beginning(c, arg, proc, int(cmd[1]), "asked by the test")
        msgs = c.consume(num_messages=500, timeout=0.2)
        mops = []
        for m in msgs:
            if m.error():
                if m.error().code() == KafkaError._AUTO_OFFSET_RESET:
                    resets += 1
                    out({"status": "offset-reset", "partition": m.partition(), "error": str(m.error())})
                    # deliver what came before, then move
                    if mops:
                        ev(process=proc, type="invoke", f="poll")
                        ev(process=proc, type="ok", f="poll", mops=mops)
                        polls += 1
                        records += len(mops)
                        mops = []
                    seek_beginning(c, arg, proc, m.partition(), "offset out of range")
                    continue
                if len(errors) < 20:
                    errors.append(str(m.error()))
                continue
            mops.append({"f": "poll", "key": key(topic, m.partition()), "offset": m.offset(),
                         "value": m.value().decode("utf-8", "replace") if m.value() is not None else None})
        if mops:
            ev(process=proc, type="invoke", f="poll")
            ev(process=proc, type="ok", f="poll", mops=mops)
            polls += 1
            records += len(mops)
    return {"polls": polls, "records": records, "errors": errors, "offsetResets": resets}


def assign_all(c, arg, proc):
    topic, parts = arg["topic"], arg["partitions"]
    keys = [key(topic, p) for p in parts]
    ev(process=proc, type="invoke", f="assign", keys=keys, seek=True)
    c.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in parts])
    ev(process=proc, type="ok", f="assign", keys=keys, seek=True)


def consume(arg):
    proc = f"c{arg['pid']}"
    c = Consumer(consumer_conf(arg, proc))
    assign_all(c, arg, proc)
    end = time.monotonic() + float(arg.get("maxSeconds", 120))
    res = poll_loop(c, arg, proc, lambda: stop.is_set() or time.monotonic() > end)
    c.close()
    out({"status": "done", **res})


def drain(arg):
    topic, parts = arg["topic"], arg["partitions"]
    proc = f"drain{arg['pid']}"
    c = Consumer(consumer_conf(arg, proc))
    deadline = time.monotonic() + float(arg.get("maxSeconds", 60))
    targets = {}
    for p in parts:
        while True:
            try:
                lo, hi = c.get_watermark_offsets(TopicPartition(topic, p), timeout=5, cached=False)
                targets[p] = hi if hi > lo else None  # None: empty, nothing to wait for
                break
            except Exception:  # noqa: BLE001 (broker still starting)
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
    assign_all(c, arg, proc)

    def caught_up():
        if stop.is_set() or time.monotonic() > deadline:
            return True
        pos = c.position([TopicPartition(topic, p) for p in parts])
        return all(targets[tp.partition] is None or tp.offset >= targets[tp.partition] for tp in pos)

    res = poll_loop(c, arg, proc, caught_up)
    pos = {tp.partition: tp.offset for tp in c.position([TopicPartition(topic, p) for p in parts])}
    c.close()
    out({"status": "done", "targets": targets, "positions": pos, **res})


def main():
    arg = json.loads(sys.argv[1])
    threading.Thread(target=watch_stdin, daemon=True).start()
    {"produce": produce, "consume": consume, "drain": drain}[arg["role"]](arg)


if __name__ == "__main__":
    main()
