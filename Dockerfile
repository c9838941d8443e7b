# Weir's controller image. Build: docker build -t weir:dev .
# NODE_IMAGE is the Node LTS release the tests run on (hack/node.sh; hack/update-node.sh
# moves both); hack/build-weir-image.sh passes a local base built from that same Node
# where no registry is reachable.
ARG NODE_IMAGE=node:26.12.1-trixie-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
# esbuild bundles the controller and the CLI with their dependencies, and writes the
# dashboard page's assets (hack/build.ts, ADR 0023): the runtime stage needs no node_modules.
COPY hack/build.ts ./hack/
RUN npm run build

FROM ${NODE_IMAGE}
WORKDIR /app
ENV NODE_ENV=production
COPY --from=build /src/dist ./dist
# Non-root, and nothing is written at run time: works with a read-only root filesystem.
USER 65532:65532
EXPOSE 8080 8081
# Node handles SIGTERM itself (src/main.ts finishes in-flight work, then exits).
# Two V8 settings, neither a heap cap (ADR 0023): a young generation of 3 × 4 MiB instead
# of 3 × 16 MiB (the controller's garbage is short-lived parsed JSON), and the old space
# collected when it reaches 1.5 × what the last full GC kept alive, where V8 would let it
# reach up to 4 ×. The limit follows the live data, however much there is. bench:scale
# --compiled runs the bundle with these same flags.
ENTRYPOINT ["node", "--max-semi-space-size=8", "--heap-growing-percent=50", "dist/weir-controller.mjs"]
