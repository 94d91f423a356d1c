# walrus-broker image: the broker daemon, plus the SDK sources and examples so the same image runs
# the example pipeline (docker-compose.yml). Only `docker-compose config -q` is checked in CI
# (scripts/check-compose.sh): no container engine runs there, so nothing here is built or run by tests.

# --- build: dependencies (including tsx and TypeScript) and dist/ ---
FROM node:20-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# The lock file links the optional io_uring addon (file:./native); it is omitted here (slim has no
# compiler toolchain), so the engine uses its default fs backend.
COPY native ./native
RUN npm ci --no-audit --no-fund --omit=optional
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npx tsc -p tsconfig.build.json

# --- runtime ---
FROM node:20-slim
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
# The example pipeline imports the SDK from src/ and runs through tsx.
COPY --from=build /app/src ./src
COPY examples ./examples

# Non-root: the `node` user (uid 1000) of the base image owns only the data volume.
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]

# 9797: the broker protocol. 9798: /metrics, /healthz, /readyz.
EXPOSE 9797 9798

# Depends on `--metrics-port` (the HTTP endpoints /healthz and /readyz); /healthz answers 200 while
# the process is up. Node's own fetch, as slim has neither curl nor wget.
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:9798/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]

# SIGTERM (docker stop) is the broker's graceful stop; node runs as PID 1 and handles it itself.
ENTRYPOINT ["node", "dist/broker/cli.js"]
CMD ["--data-dir", "/data", "--host", "0.0.0.0", "--port", "9797", "--metrics-port", "9798"]
