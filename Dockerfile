# syntax=docker/dockerfile:1
# Gatehouse: multi-stage build. The build stage compiles TypeScript and the native modules
# (better-sqlite3; @node-rs/argon2 ships prebuilt binaries); the final stage holds only the
# compiled code and production dependencies, and runs as the unprivileged `node` user.
# See docs/operations.md ("Docker") for volumes, environment and the production checklist.

ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
# Toolchain for better-sqlite3 when no prebuilt binary matches the platform.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
# The SDK packages are npm workspaces: npm ci needs their manifests (the server links them).
COPY packages/client/package.json ./packages/client/
COPY packages/verify/package.json ./packages/verify/
RUN npm ci --no-audit --no-fund
COPY tsconfig*.json ./
COPY packages ./packages
COPY src ./src
COPY web ./web
# scripts/copy-scalar.mjs: the build copies the API reference's browser bundle out of a devDependency.
COPY scripts ./scripts
RUN npm run build \
 && npm prune --omit=dev --no-audit --no-fund

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    GATEHOUSE_HOST=0.0.0.0 \
    GATEHOUSE_PORT=8787 \
    GATEHOUSE_DATA_DIR=/data \
    GATEHOUSE_DATABASE_URL=sqlite:/data/gatehouse.db
WORKDIR /app
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/packages ./packages
COPY --from=build /app/web ./web
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 8787
# Liveness only (/healthz); orchestrators should route traffic by /readyz (database reachable).
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.GATEHOUSE_PORT || 8787) + '/healthz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# `serve` drains requests under way on SIGTERM (GATEHOUSE_SHUTDOWN_TIMEOUT_MS), then exits 0.
STOPSIGNAL SIGTERM
# A fixed young generation (2 x 8 MiB): see docs/operations.md, "Memory".
ENTRYPOINT ["node", "--min-semi-space-size=8", "--max-semi-space-size=8", "dist/cli/main.js"]
CMD ["serve"]
