# Weir's controller image. Build: docker build -t weir:dev .
# NODE_IMAGE is the Node LTS release the tests run on (hack/node.sh; hack/update-node.sh
# moves both); hack/build-weir-image.sh passes a local base built from that same Node
# where no registry is reachable.
ARG NODE_IMAGE=node:26.12.1-trixie-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
# npm run build also writes the dashboard page's assets into dist (esbuild is a devDependency).
COPY hack/build-dashboard-assets.ts ./hack/
RUN npm run build && npm prune --omit=dev --ignore-scripts

FROM ${NODE_IMAGE}
WORKDIR /app
ENV NODE_ENV=production
COPY --from=build /src/package.json ./
COPY --from=build /src/node_modules ./node_modules
COPY --from=build /src/dist/src ./dist/src
# Non-root, and nothing is written at run time: works with a read-only root filesystem.
USER 65532:65532
EXPOSE 8080 8081
# Node handles SIGTERM itself (src/main.ts finishes in-flight work, then exits).
ENTRYPOINT ["node", "--enable-source-maps", "dist/src/main.js"]
