/**
 * The process's metrics, in Prometheus's text format (prom-client): one Registry per running hub
 * process, the process's own figures (CPU, memory, event loop, prefixed `tiphub_`), the counters
 * the pipeline feeds through its port (src/metrics/port.ts), and gauges read when scraped (queue
 * depths, channel states, open cases, the data directory's disk), each read cached for a moment so
 * that several scrapers cost Redis and the case log one read. Labels take words of fixed lists
 * only: a channel's registry name, a queue name, a decision kind, an error code of src/errors.ts.
 */
import * as fs from 'node:fs';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { errorCodes } from '../errors';
import { DEDUPE_KINDS, type DedupeKind, type PipelineMetrics } from './port';

export { DEDUPE_KINDS, NO_METRICS, type DedupeKind, type PipelineMetrics } from './port';

export interface QueueJobCounts {
  readonly waiting: number;
  readonly active: number;
  readonly delayed: number;
  readonly failed: number;
}

/** What the gauges read when scraped; a part this process does not have is left out. */
export interface ScrapeSources {
  /** Queue name → its counts (BullMQ getJobCounts). */
  readonly queues?: () => Promise<Record<string, QueueJobCounts>>;
  /** The channels this process runs, and whether each is connected (its state in Redis, not stale). */
  readonly channels?: () => Promise<readonly { readonly channel: string; readonly connected: boolean }[]>;
  /** Cases not closed. */
  readonly openCases?: () => Promise<number>;
  /** The data directory, for its file system's free and total bytes. */
  readonly dataDir?: string;
}

export interface HubMetrics {
  readonly registry: Registry;
  readonly pipeline: PipelineMetrics;
  /** The text format, with the gauges read now (or a moment ago). */
  text(): Promise<string>;
  readonly contentType: string;
}

/** A read done once per this many ms at most, whoever scrapes. */
export const SCRAPE_CACHE_MS = 2000;

/** Sink → commit, in seconds: from a few milliseconds (group commit) to minutes (a backlog). */
export const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

const QUEUE_STATES = ['waiting', 'active', 'delayed', 'failed'] as const;
const ORIGINS = new Set(['live', 'import']);

function cached<T>(read: () => Promise<T>, ms: number): () => Promise<T> {
  let at = 0;
  let last: Promise<T> | null = null;
  return () => {
    if (!last || Date.now() - at >= ms) {
      at = Date.now();
      last = read();
      // A failed read is not kept: the next scrape tries again.
      last.catch(() => {
        at = 0;
      });
    }
    return last;
  };
}

/**
 * Creates the registry. `channels`: every channel name the registry knows (a label outside it is
 * counted as `other`, so no caller can put free text into a label).
 */
export function createHubMetrics(channels: readonly string[], sources: ScrapeSources = {}, opts: { cacheMs?: number } = {}): HubMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'tiphub_' });
  const cacheMs = opts.cacheMs ?? SCRAPE_CACHE_MS;
  const known = new Set(channels);
  const ch = (c: string) => (known.has(c) ? c : 'other');
  const code = (c: string) => (Object.hasOwn(errorCodes, c) ? c : 'other');
  const registers = [registry];

  const received = new Counter({ name: 'tiphub_messages_received_total', help: 'Messages a channel handed to the intake queue (a redelivery counts again).', labelNames: ['channel'], registers });
  const committed = new Counter({ name: 'tiphub_reports_committed_total', help: 'New reports written to the case log.', labelNames: ['channel', 'origin'], registers });
  const dedupe = new Counter({ name: 'tiphub_dedupe_decisions_total', help: 'How the intake decided about each message it wrote: none, transport (already in the log), exact, near, followup, edit.', labelNames: ['kind'], registers });
  const latency = new Histogram({ name: 'tiphub_commit_latency_seconds', help: 'From the hub receiving a message to its report committed.', buckets: LATENCY_BUCKETS, registers });
  const sent = new Counter({ name: 'tiphub_outbound_sent_total', help: 'Messages sent to informants.', labelNames: ['channel'], registers });
  const sendFailed = new Counter({ name: 'tiphub_outbound_failed_total', help: 'Send attempts that failed, by error code (a retried send counts each time).', labelNames: ['channel', 'reason'], registers });
  const mediaBytes = new Counter({ name: 'tiphub_media_stored_bytes_total', help: 'Bytes of media fetched from a platform into the store.', labelNames: ['channel'], registers });
  const mediaStored = new Counter({ name: 'tiphub_media_stored_total', help: 'Media files fetched from a platform into the store.', labelNames: ['channel'], registers });
  const mediaFailed = new Counter({ name: 'tiphub_media_failed_total', help: 'Media files recorded missing for good, by error code.', labelNames: ['channel', 'reason'], registers });
  // Every label set known from the start: a rate over a counter that appears late misses its first step.
  for (const c of channels) {
    received.labels(c).inc(0);
    sent.labels(c).inc(0);
    mediaBytes.labels(c).inc(0);
    mediaStored.labels(c).inc(0);
    for (const o of ORIGINS) committed.labels(c, o).inc(0);
  }
  for (const k of DEDUPE_KINDS) dedupe.labels(k).inc(0);

  // Each source read once per scrape (cached), by its gauges and by tiphub_source_up alike.
  const probes: { source: string; read: () => Promise<unknown> }[] = [];
  // A source that did not answer: labelled gauges are left out (`miss`) rather than showing old
  // figures; a single value keeps its last one (a 0 would say the disk is full), and
  // tiphub_source_up says it is old.
  const guard = async <T>(read: () => Promise<T>, use: (v: T) => void, miss?: () => void) => {
    const v = await read().then(
      (x) => ({ x }),
      () => null,
    );
    if (v) use(v.x);
    else miss?.();
  };

  if (sources.queues) {
    const read = cached(sources.queues, cacheMs);
    probes.push({ source: 'queues', read });
    new Gauge({
      name: 'tiphub_queue_jobs',
      help: 'Jobs in each queue by state (waiting includes the slow lane of flooding senders).',
      labelNames: ['queue', 'state'],
      registers,
      async collect() {
        await guard(read, (counts) => {
          this.reset();
          for (const [queue, c] of Object.entries(counts)) for (const s of QUEUE_STATES) this.labels(queue, s).set(c[s]);
        }, () => this.reset());
      },
    });
  }
  if (sources.channels) {
    const read = cached(sources.channels, cacheMs);
    probes.push({ source: 'channels', read });
    new Gauge({
      name: 'tiphub_channel_connected',
      help: '1 while a channel this process runs is connected (its state in Redis, not stale), else 0.',
      labelNames: ['channel'],
      registers,
      async collect() {
        await guard(read, (list) => {
          this.reset();
          for (const c of list) this.labels(ch(c.channel)).set(c.connected ? 1 : 0);
        }, () => this.reset());
      },
    });
  }
  if (sources.openCases) {
    // One indexed count; Prometheus scrapes every 15 s or so, the cache spares several scrapers.
    const read = cached(sources.openCases, cacheMs);
    probes.push({ source: 'caselog', read });
    new Gauge({
      name: 'tiphub_cases_open',
      help: 'Cases in the case log that are not closed.',
      registers,
      async collect() {
        await guard(read, (n) => this.set(n));
      },
    });
  }
  if (sources.dataDir) {
    const dir = sources.dataDir;
    const read = cached(() => fs.promises.statfs(dir), cacheMs);
    probes.push({ source: 'disk', read });
    new Gauge({
      name: 'tiphub_data_dir_free_bytes',
      help: "Bytes free for this process on the data directory's file system.",
      registers,
      async collect() {
        await guard(read, (s) => this.set(s.bavail * s.bsize));
      },
    });
    new Gauge({
      name: 'tiphub_data_dir_size_bytes',
      help: "Size of the data directory's file system.",
      registers,
      async collect() {
        await guard(read, (s) => this.set(s.blocks * s.bsize));
      },
    });
  }

  new Gauge({
    name: 'tiphub_source_up',
    help: 'Whether a source read when scraped answered: queues and channels (Redis), caselog, disk.',
    labelNames: ['source'],
    registers,
    async collect() {
      for (const p of probes) this.labels(p.source).set(await p.read().then(() => 1, () => 0));
    },
  });

  const pipeline: PipelineMetrics = {
    received: (c) => received.labels(ch(c)).inc(),
    committed(c, origin, kind: DedupeKind, seconds) {
      committed.labels(ch(c), ORIGINS.has(origin) ? origin : 'other').inc();
      dedupe.labels(kind).inc();
      // A clock that went back (another machine's receivedAt) says nothing about latency.
      if (seconds !== null && seconds >= 0) latency.observe(seconds);
    },
    alreadyPresent: () => dedupe.labels('transport').inc(),
    outboundSent: (c) => sent.labels(ch(c)).inc(),
    outboundFailed: (c, reason) => sendFailed.labels(ch(c), code(reason)).inc(),
    mediaStored(c, bytes) {
      mediaStored.labels(ch(c)).inc();
      mediaBytes.labels(ch(c)).inc(bytes);
    },
    mediaFailed: (c, reason) => mediaFailed.labels(ch(c), code(reason)).inc(),
  };
  return { registry, pipeline, text: () => registry.metrics(), contentType: registry.contentType };
}
