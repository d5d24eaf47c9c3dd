#!/bin/sh
# Container entrypoint (runs as the unprivileged `node` user under tini, which
# forwards SIGTERM and reaps ffmpeg children). MIGRATE=true applies pending
# migrations before the command starts; run it on one container only.
set -e
if [ "${MIGRATE:-false}" = "true" ]; then
  node ace migration:run --force
fi
exec "$@"
