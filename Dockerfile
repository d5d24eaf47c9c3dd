# syntax=docker/dockerfile:1
#
# One image for the app: the web server by default, the worker with
#   docker run … vgen node ace worker
# and one-off tasks with e.g. `node ace migration:run --force`, `node ace db:backup …`.
# `--target litefs` adds LiteFS for the replicated deployment (see litefs.yml, fly.toml).
# bin/build-release runs the same build and a smoke test without Docker.

ARG NODE_IMAGE=node:24-bookworm-slim

FROM ${NODE_IMAGE} AS base
ENV NPM_CONFIG_FUND=false NPM_CONFIG_AUDIT=false

# ---- build: compile TypeScript + Vite assets, then production dependencies ----
FROM base AS build
# better-sqlite3 ships prebuilt addons (linux x64/arm64, glibc and musl): no compiler needed.
ENV PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
WORKDIR /src
COPY package.json package-lock.json .npmrc ./
RUN npm ci
COPY . .
RUN node ace build
WORKDIR /src/build
RUN npm ci --omit=dev

# ---- app: what every runtime variant shares ----
FROM base AS app
RUN apt-get update \
  && apt-get install -y --no-install-recommends ffmpeg tini ca-certificates \
  && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3333 \
    LOG_LEVEL=info \
    DATABASE_PATH=/data/vgen.sqlite3 \
    STORAGE_PATH=/data/storage
WORKDIR /app
# The code belongs to root and is read-only for the app user; only /data and tmp/ are writable.
COPY --from=build /src/build /app
COPY --chmod=755 docker/entrypoint.sh /usr/local/bin/vgen-entrypoint
RUN mkdir -p /data /app/tmp && chown node:node /data /app/tmp
EXPOSE 3333

# ---- litefs: replicated SQLite (Fly.io). LiteFS mounts /litefs as root, the app runs as `node`. ----
FROM app AS litefs
RUN apt-get update \
  && apt-get install -y --no-install-recommends fuse3 sqlite3 \
  && rm -rf /var/lib/apt/lists/*
COPY --from=flyio/litefs:0.5 /usr/local/bin/litefs /usr/local/bin/litefs
COPY litefs.yml /etc/litefs.yml
ENV DATABASE_PATH=/litefs/vgen.sqlite3 \
    LITEFS_DIR=/litefs \
    PORT=3333
ENTRYPOINT ["litefs", "mount"]

# ---- runtime (default): a single node, database and files on the /data volume ----
FROM app AS runtime
USER node
VOLUME /data
ENTRYPOINT ["tini", "--", "vgen-entrypoint"]
CMD ["node", "--expose-gc", "bin/server.js"]
