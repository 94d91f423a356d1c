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
# Disk health right now: 300 × (4 KiB write + fdatasync) in the temp dir (platform notes: ~6.4k/s idle).
node -e '
const fs = require("fs"), path = require("path"), os = require("os");
const file = path.join(process.env.TMPDIR || os.tmpdir(), `walrus-bench-fsync-${process.pid}`);
const fd = fs.openSync(file, "w"), block = Buffer.alloc(4096, 1), us = [];
const start = process.hrtime.bigint();
for (let i = 0; i < 300; i++) { const t = process.hrtime.bigint(); fs.writeSync(fd, block); fs.fdatasyncSync(fd); us.push(Number(process.hrtime.bigint() - t) / 1000); }
const s = Number(process.hrtime.bigint() - start) / 1e9;
fs.closeSync(fd); fs.unlinkSync(file); us.sort((a, b) => a - b);
console.log(`fsync:   ${(300 / s).toFixed(0)} × (4 KiB write + fdatasync)/s, p50 ${us[150].toFixed(0)} µs, p99 ${us[297].toFixed(0)} µs`);
'
