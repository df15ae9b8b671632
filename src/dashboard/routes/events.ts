/**
 * GET /events: server-sent events for the live case list (issue 11, item 5). A logged-in operator
 * (role read) hears `event: cases` with the references of the cases that got reports, coalesced
 * to at most one event every 500 ms, and a comment every 15 s that keeps proxies from closing the
 * stream. The stream ends when its session does: at logout at once, and when an admin revokes it,
 * the operator is disabled or the session times out, at the next heartbeat. Checking the session
 * does not touch it: an open stream alone does not keep a session alive.
 */
import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import fp from 'fastify-plugin';
import type { CaseUpdates } from '../../queue/case-updates';
import { SECURITY_HEADERS } from '../plugins/security-headers';
import { noQuery } from '../schemas';

export interface EventsOptions {
  readonly caseUpdates?: CaseUpdates;
  /** Between two `cases` events (default 500 ms). */
  readonly coalesceMs?: number;
  /** Between two heartbeats, each also a session check (default 15 s). */
  readonly heartbeatMs?: number;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** Ends the live streams of one session (logout). */
    endLiveStreams(tokenHash: string): void;
  }
}

const eventStream = { 200: { content: { 'text/event-stream': { schema: { type: 'string' } } } } } as const;

interface Stream {
  readonly tokenHash: string;
  end(): void;
}

const eventsPlugin: FastifyPluginAsync<EventsOptions> = async (app, opts) => {
  const db = app.caselog;
  const coalesceMs = opts.coalesceMs ?? 500;
  const heartbeatMs = opts.heartbeatMs ?? 15_000;
  const idleMs = app.dashboardAuth.idleMs;
  const streams = new Set<Stream>();

  app.decorate('endLiveStreams', (tokenHash: string) => {
    for (const s of [...streams]) if (s.tokenHash === tokenHash) s.end();
  });
  app.addHook('preClose', async () => {
    for (const s of [...streams]) s.end();
  });

  /** Whether the session still stands, without touching it. */
  const alive = async (tokenHash: string): Promise<boolean> => {
    const { rows } = await db.query<{ ok: boolean }>(
      `SELECT (s.revoked_at IS NULL AND o.disabled_at IS NULL AND s.expires_at > now() AND s.last_seen_at + ($2::bigint * interval '1 millisecond') > now()) AS ok
         FROM sessions s JOIN operators o ON o.name = s.operator WHERE s.token_hash = $1`,
      [tokenHash, idleMs],
    );
    return rows[0]?.ok === true;
  };

  app.get('/events', { config: { permission: 'read' }, schema: { querystring: noQuery, response: eventStream } }, async (req, reply: FastifyReply) => {
    const session = req.operatorSession!;
    const tokenHash = session.tokenHash;
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      ...SECURITY_HEADERS,
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-accel-buffering': 'no',
      connection: 'keep-alive',
    });
    res.write('retry: 2000\n: live\n\n');

    const pending = new Set<string>();
    let lastSent = 0;
    let flushTimer: NodeJS.Timeout | null = null;
    let ended = false;
    const flush = () => {
      flushTimer = null;
      if (ended || !pending.size) return;
      const refs = [...pending];
      pending.clear();
      lastSent = Date.now();
      res.write(`event: cases\ndata: ${JSON.stringify({ refs })}\n\n`);
    };
    const unsubscribe = opts.caseUpdates?.subscribe((refs) => {
      for (const r of refs) pending.add(r);
      if (!flushTimer) flushTimer = setTimeout(flush, Math.max(0, lastSent + coalesceMs - Date.now()));
    });
    const heartbeat = setInterval(() => {
      alive(tokenHash)
        .then((ok) => (ok ? void res.write(': heartbeat\n\n') : stream.end()))
        .catch((err) => req.log.warn({ err }, 'live stream: session check failed'));
    }, heartbeatMs);
    const stream: Stream = {
      tokenHash,
      end() {
        if (ended) return;
        ended = true;
        streams.delete(stream);
        clearInterval(heartbeat);
        if (flushTimer) clearTimeout(flushTimer);
        unsubscribe?.();
        res.end();
      },
    };
    streams.add(stream);
    req.raw.on('close', () => stream.end());
    res.on('close', () => stream.end());
  });
};

export default fp(eventsPlugin, { name: 'tiphub-events', fastify: '5.x', dependencies: ['tiphub-caselog', 'tiphub-auth'] });
