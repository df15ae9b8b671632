# The tiphub hub. One image, one program: the command picks the role (start, worker, …).
FROM node:20-bookworm-slim AS build
WORKDIR /app
ENV PUPPETEER_SKIP_DOWNLOAD=true
COPY package.json package-lock.json .puppeteerrc.cjs tsconfig.json tsconfig.build.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY src ./src
COPY app ./app
COPY adapters ./adapters
COPY workers ./workers
RUN npm run build && npm prune --omit=dev --ignore-scripts

FROM node:20-bookworm-slim
# WhatsApp Web runs in Debian's Chromium (channels.whatsapp.web.chromiumPath); puppeteer downloads none.
RUN apt-get update && apt-get install -y --no-install-recommends chromium fonts-noto-core && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production TIPHUB_DATA_DIR=/data
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY bin ./bin
COPY config ./config
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
ENTRYPOINT ["node", "/app/bin/tiphub.js"]
CMD ["start"]
