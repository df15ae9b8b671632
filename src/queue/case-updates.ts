/**
 * Which cases changed, told through Redis (issue 11, item 5, live list): the intake worker, in
 * whatever process it runs, publishes the references of the cases a committed batch wrote to;
 * the dashboard subscribes and tells its open lists. A message holds case references only, never
 * a tip's words, a pseudonym or an address: `{"refs":["…"]}`.
 */
import type { Redis } from 'ioredis';
import type { Logger } from '../log';
import { connectRedis, type RedisTarget } from './redis';

/** The channel, under the queue prefix (two hubs on one Redis do not hear each other). */
export const caseUpdatesChannel = (prefix: string): string => `${prefix}:case-updates`;

/** A case reference as the case log writes them; anything else is neither published nor passed on. */
const REF = /^[A-Za-z0-9-]{1,20}$/;
const MAX_REFS = 1000;

/** The message for these references (deduplicated, invalid ones dropped), or null when none is left. */
export function caseUpdatesMessage(refs: readonly string[]): string | null {
  const ok = [...new Set(refs.filter((r) => typeof r === 'string' && REF.test(r)))].slice(0, MAX_REFS);
  return ok.length ? JSON.stringify({ refs: ok }) : null;
}

/** The references a message names; [] for anything that is not one of ours. */
export function parseCaseUpdates(message: string): string[] {
  if (typeof message !== 'string' || message.length > 64 * 1024) return [];
  try {
    const v = JSON.parse(message) as unknown;
    const refs = v && typeof v === 'object' ? (v as { refs?: unknown }).refs : undefined;
    return Array.isArray(refs) ? [...new Set(refs.filter((r): r is string => typeof r === 'string' && REF.test(r)))].slice(0, MAX_REFS) : [];
  } catch {
    return [];
  }
}

/** Publishes the changed cases; a failure is only a warning (the lists catch up on the next change or reload). */
export async function publishCaseUpdates(client: Redis, prefix: string, refs: readonly string[], log?: Logger): Promise<void> {
  const message = caseUpdatesMessage(refs);
  if (!message) return;
  try {
    await client.publish(caseUpdatesChannel(prefix), message);
  } catch (err) {
    log?.warn({ err, cases: refs.length }, 'case updates not published; open lists catch up later');
  }
}

/** What the dashboard is given: subscribe with a listener, call the returned function to leave. */
export interface CaseUpdates {
  subscribe(onRefs: (refs: string[]) => void): () => void;
}

export interface CaseUpdatesSubscription extends CaseUpdates {
  /** Settles once Redis confirmed the subscription (it never rejects: a failure is logged). */
  readonly ready: Promise<void>;
  close(): Promise<void>;
}

/** One subscriber connection for the process, fanned out to every listener. */
export function subscribeCaseUpdates(target: RedisTarget, prefix: string, log?: Logger): CaseUpdatesSubscription {
  const channel = caseUpdatesChannel(prefix);
  const listeners = new Set<(refs: string[]) => void>();
  const sub = connectRedis(target, { forWorker: true });
  const ready = sub.subscribe(channel).then(
    () => undefined,
    (err: unknown) => log?.warn({ err }, 'case updates: subscribe failed; live lists stay still until Redis answers'),
  );
  sub.on('message', (ch: string, message: string) => {
    if (ch !== channel) return;
    const refs = parseCaseUpdates(message);
    if (!refs.length) return;
    for (const l of listeners) {
      try {
        l(refs);
      } catch (err) {
        log?.warn({ err }, 'case updates listener failed');
      }
    }
  });
  return {
    ready,
    subscribe(onRefs) {
      listeners.add(onRefs);
      return () => {
        listeners.delete(onRefs);
      };
    },
    async close() {
      listeners.clear();
      sub.disconnect();
    },
  };
}
