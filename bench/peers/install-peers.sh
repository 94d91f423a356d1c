#!/usr/bin/env bash
# Installs the peer brokers the benchmarks compare against, from Debian's packages, when missing.
# Idempotent: a machine that already has both binaries runs no apt command at all.
# redis-server (7.0 on bookworm) and nats-server (2.9 on bookworm; JetStream via -js).
set -euo pipefail

missing=()
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
command -v nats-server >/dev/null 2>&1 || [ -x /usr/sbin/nats-server ] || missing+=(nats-server)

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "bench: missing ${missing[*]}; install them (apt-get install ${missing[*]}) or run as root" >&2
  exit 1
fi

echo "bench: installing ${missing[*]} from Debian" >&2
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# The Debian package may start a system service through systemd; the benchmarks start their own
# instances on free loopback ports in temp dirs and never touch a system instance.
