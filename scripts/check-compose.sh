#!/usr/bin/env bash
# Validates docker-compose.yml with `docker-compose config -q` (syntax, schema, anchors, references).
# Skips, saying so, when docker-compose is not installed (Debian package `docker-compose`). This is
# the only container check CI makes: no engine runs there, so the image is never built or started.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v docker-compose >/dev/null 2>&1; then
  echo "== docker-compose is not installed: docker-compose.yml not validated (apt-get install docker-compose)"
  exit 0
fi
docker-compose -f docker-compose.yml config -q
echo "== docker-compose.yml is valid ($(docker-compose version --short 2>/dev/null || echo 'docker-compose'))"
