#!/usr/bin/env bash
# Installs the Debian packages that the golden-bytes capture and compat tooling use:
# kcat and librdkafka (C client + its built-in mock cluster), the two Python clients
# (with the codec modules kafka-python needs for snappy, lz4 and zstd),
# gcc to build scripts/capture/mock-cluster.c, and tcpdump to record traffic on lo.
# Idempotent: installs only what is missing; safe to run repeatedly (CI calls it).
set -euo pipefail

PKGS=(kcat librdkafka-dev python3-confluent-kafka python3-kafka python3-snappy python3-lz4 python3-zstandard gcc libc6-dev pkg-config tcpdump)

missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ "${#missing[@]}" -eq 0 ]; then
  echo "install-debian-clients: all present (${PKGS[*]})"
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
echo "install-debian-clients: installing ${missing[*]}"
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
