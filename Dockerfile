# syntax=docker/dockerfile:1
# alertmux: an Alertmanager webhook receiver that fans alert groups out to many targets.
#
#   docker build -t alertmux .
#   docker run -p 9095:9095 -v alertmux-data:/var/lib/alertmux \
#     -v "$PWD/alertmux.yml:/etc/alertmux/alertmux.yml:ro" alertmux
#
# test/docker/dockerfile.test.ts runs this file's build and start steps on the CI
# machine (no Docker engine there): keep its RUN and COPY lines plain.

ARG NODE_VERSION=24

# ---- build: compile TypeScript with dev dependencies, then keep production ones only ----
FROM node:${NODE_VERSION}-bookworm-slim AS build
# better-sqlite3 is a native addon: node-gyp compiles it when no prebuilt binary fits.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN --mount=type=cache,target=/root/.npm npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
# The console (served at /ui/): bundled by esbuild into dist/ui/ by the same build.
COPY ui ./ui
COPY scripts/build-ui.ts ./scripts/build-ui.ts
RUN npm run build
# Drops the dev dependencies and keeps the compiled better-sqlite3 of `npm ci`.
RUN npm prune --omit=dev --no-audit --no-fund

# ---- runtime: production node_modules, compiled JS, no compiler ----
FROM node:${NODE_VERSION}-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY docker/alertmux.yml /etc/alertmux/alertmux.yml
# The base image's unprivileged `node` user (uid/gid 1000) owns the data directory.
RUN mkdir -p /var/lib/alertmux && chown 1000:1000 /var/lib/alertmux
# Numeric, so that Kubernetes' runAsNonRoot can verify it.
USER 1000:1000
# The SQLite delivery ledger (alertmux.db plus its -wal and -shm files).
VOLUME /var/lib/alertmux
EXPOSE 9095
# SIGTERM drains: new webhooks get 503, attempts in flight finish (ALERTMUX_SHUTDOWN_GRACE_MS), the rest stays queued.
STOPSIGNAL SIGTERM
# slim images have no curl: node asks /-/healthy itself.
HEALTHCHECK --interval=30s --timeout=5s --start-period=15s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:9095/-/healthy').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# `docker run IMAGE check-config /etc/alertmux/alertmux.yml` and `... send-test --config ...` replace the CMD.
ENTRYPOINT ["node", "dist/cli.js"]
CMD ["--config", "/etc/alertmux/alertmux.yml", "--listen", "0.0.0.0:9095"]
