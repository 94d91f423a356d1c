# Benchmarks against a live broker, side by side with Redis Streams and NATS JetStream (issue 6).
# Included by the root Makefile. Never part of `make test`. Traffic stays on 127.0.0.1.
#
# Knobs (environment or make variables; make passes command-line variables to the recipes itself, so
# nothing is exported here: an exported unset variable would reach other targets as an empty string):
#   FSYNC=sync-each|<n>ms|none   broker fsync mode (default sync-each)
#   THREADS=4 | 1-8              producer / consumer processes (a range runs 1, 2, 4, 8)
#   WALRUS_DURATION=10           seconds per measured case (after a 1 s warm-up)
#   WALRUS_BATCH_SIZE=256        sends in flight per producer (our SDK auto-batches them)
#   PAYLOAD=1024                 bytes per message
#   RATE=20000                   fixed total send rate for latency cases (msgs/s)
#   WALRUS_PREFILL=200000        messages written before a consume case drains them
#   WALRUS_BROKER=127.0.0.1:9797 target an existing broker (WALRUS_BROKER_PID=… to sample its CPU/RSS)
#   WALRUS_CLIENT=sdk|raw        our broker through the SDK (default) or raw protocol frames
#   WALRUS_LINGER_MS=…           our SDK producer's linger (default: the SDK's own)
#   WALRUS_PROFILE=1             write a --cpu-prof profile of the broker to bench/out/profiles/
#   PEERS=redis,jetstream        which peers bench-peers runs
# Results: a table on stdout, CSV (and the scaling chart as SVG) in bench/out/.

BENCH_RUN := npx tsx

.PHONY: bench-writes bench-reads bench-scaling bench-peers bench-smoke bench-peers-install bench-profile-summary

bench-writes: build
	$(BENCH_RUN) bench/scenarios/writes.ts

bench-reads: build
	$(BENCH_RUN) bench/scenarios/reads.ts

bench-scaling: build
	$(BENCH_RUN) bench/scenarios/scaling.ts

bench-peers: build bench-peers-install
	bash bench/machine.sh
	$(BENCH_RUN) bench/scenarios/peers.ts

# A ~20 s check that the tooling works (our broker, plus Redis if it is installed); not a measurement.
bench-smoke: build
	$(BENCH_RUN) bench/scenarios/smoke.ts

# redis-server and nats-server from Debian, when missing (idempotent; needs root for apt-get).
bench-peers-install:
	bash bench/peers/install-peers.sh

# Top functions of every broker profile written with WALRUS_PROFILE=1.
bench-profile-summary:
	$(BENCH_RUN) bench/profile-summary.ts bench/out/profiles/broker-*.cpuprofile
