# walrus-broker — the two commands a newcomer needs are `make run` and `make test`.
SHELL := /bin/bash
NODE_MODULES := node_modules/.package-lock.json
DATA_DIR ?= .walrus-data

.PHONY: run test build install typecheck clean bench-engine

run: build
	node dist/broker/cli.js --data-dir $(DATA_DIR)

# The whole suite with the defaults (backend auto: io_uring where the optional addon built and works,
# else fs; reads auto: mmap where the addon built, else pread; entry checksums batched by the addon),
# then the engine's suites again with none of the addon's paths (fs, pread, node:zlib checksums), so
# both of each run the whole engine suite where the addon built (the output names the backend and read path of each pass; the suites print theirs;
# test/engine/mmap-reads.test.ts covers mmap on both backends).
ENGINE_SUITES := src/engine test/engine test/crash/engine-kill.test.ts test/crash/power-loss.test.ts
ADDON_LOADS := node -e "import('@walrus/uring-napi').then(() => process.exit(0), () => process.exit(1))"

test: build typecheck
	@if $(ADDON_LOADS); then \
	  echo "== all suites with the defaults: backend auto (uring: @walrus/uring-napi is built), reads auto (mmap)"; \
	else \
	  echo "== all suites with the defaults: backend auto (fs: @walrus/uring-napi is not built), reads auto (pread)"; \
	fi
	npx vitest run
	bash scripts/check-compose.sh
	@if $(ADDON_LOADS); then \
	  echo "== engine suites again without the addon's paths: fs backend, pread reads, node:zlib checksums (WALRUS_IO_BACKEND=fs WALRUS_READS=pread WALRUS_NATIVE_CRC=0)"; \
	  WALRUS_IO_BACKEND=fs WALRUS_READS=pread WALRUS_NATIVE_CRC=0 npx vitest run $(ENGINE_SUITES); \
	else \
	  echo "== @walrus/uring-napi is not built here: the engine suites ran on the fs backend with pread reads only"; \
	fi

install: $(NODE_MODULES)

# npm ci reproduces package-lock.json exactly; re-run only when the lock file changes.
$(NODE_MODULES): package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

build: install
	npx tsc -p tsconfig.build.json

typecheck: install
	npx tsc -p tsconfig.json --noEmit

bench-engine: install
	npx tsx bench/engine.ts

clean:
	rm -rf dist node_modules/.package-lock.json

# Benchmark targets against a live broker and its peers live beside the load generators.
-include bench/bench.mk
-include test/soak.mk
