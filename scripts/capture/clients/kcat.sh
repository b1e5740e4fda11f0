#!/usr/bin/env bash
# Golden-bytes scenario for kcat (librdkafka). Usage: kcat.sh BOOTSTRAP GROUP
# Topics golden-<codec> must exist on the broker. Every kcat call is bounded.
set -euo pipefail
B="$1"
GROUP="$2"
K=(kcat -b "$B" -X client.id=golden-kcat -X log_level=3)
T=20

# Metadata listing.
timeout "$T" "${K[@]}" -L >/dev/null

# Produce: one small batch per codec, records with keys and headers.
for codec in none gzip snappy lz4 zstd; do
  printf 'key-1:value one %s\nkey-2:value two %s\nkey-3:value three %s\n' "$codec" "$codec" "$codec" |
    timeout "$T" "${K[@]}" -P -t "golden-$codec" -p 0 -z "$codec" -K: -H h1=v1 -H trace=golden
done

# Idempotent producer (InitProducerId, producer id/epoch/sequence in the batch).
printf 'key-i:idempotent\n' |
  timeout "$T" "${K[@]}" -P -t golden-none -p 0 -K: -X enable.idempotence=true

# Transactional producer (InitProducerId, AddPartitionsToTxn, EndTxn).
printf 'key-t:transactional\n' |
  timeout "$T" "${K[@]}" -P -t golden-none -p 0 -K: -X transactional.id=golden-kcat-txn || echo "kcat: transactional produce failed" >&2

# Simple consumer: ListOffsets + Fetch on a partition.
timeout "$T" "${K[@]}" -C -t golden-gzip -p 0 -o beginning -e -q >/dev/null

# Group consumer: FindCoordinator, JoinGroup, SyncGroup, OffsetFetch, Fetch, Heartbeat,
# OffsetCommit (on close), LeaveGroup. -e exits once every assigned partition is at its end.
timeout 60 "${K[@]}" -G "$GROUP" -X auto.offset.reset=earliest -X enable.auto.commit=true \
  -X auto.commit.interval.ms=500 -e -q golden-none golden-gzip golden-snappy golden-lz4 golden-zstd >/dev/null
