#!/usr/bin/env bash
# Prints the machine facts bench/RESULTS.md records next to every figure.
set -uo pipefail
echo "date:    $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "cpu:     $(nproc) × $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
echo "memory:  $(free -g | awk '/^Mem:/ {print $2 " GiB"}')"
echo "kernel:  $(uname -r)"
echo "disk:    $(df -h --output=source,fstype,size,avail "${TMPDIR:-/tmp}" | tail -1 | tr -s ' ') (temp dirs; $(findmnt -no OPTIONS -T "${TMPDIR:-/tmp}" | cut -c1-60))"
echo "node:    $(node --version)"
echo "redis:   $(redis-server --version 2>/dev/null | awk '{print $3}' || echo missing)"
echo "nats:    $( (nats-server --version || /usr/sbin/nats-server --version) 2>/dev/null | head -1)"
echo "load:    $(cut -d' ' -f1-3 /proc/loadavg) (1, 5, 15 min)"
