/**
 * What the intake computes of a text before grouping (fingerprint, MinHash signature and band keys,
 * look-alike keys, language, tags, places, entities, priority, noise), for the bulk-generated log.
 *
 * The grouping code is being rewritten while this benchmark is: when the build has the intake's
 * own `reportFeatures` (src/grouping/features, with the tagging rules the worker loads), the bulk
 * rows are computed with it, exactly as the intake would write them; otherwise with the functions
 * of src/grouping/fingerprint and src/grouping/minhash, and a small stand-in for the look-alike
 * keys (places of the templates, numbers). Which one was used is printed.
 */
import type { Config } from '../src/config';
import { createHash } from 'node:crypto';
import { isTooShortToMatch, normalizeForMatch, textFingerprint } from '../src/grouping/fingerprint';
import { bandKeys, minhashSignature } from '../src/grouping/minhash';
import { detectLanguage } from '../src/conversation/language';

export interface BulkFeatures {
  fingerprint: string | null;
  minhash: Int32Array | null;
  bands: readonly number[];
  matchKeys: readonly string[];
  language: string | null;
  tags: readonly string[];
  places: readonly string[];
  entities: unknown;
  priority: string;
  noise: boolean;
  topicBreak: boolean;
}

export interface FeatureSource {
  readonly name: string;
  compute(text: string, sentAt: Date, receivedAt: Date): BulkFeatures;
}

type AnyFn = (...a: unknown[]) => unknown;

function intakeFeatures(cfg: Readonly<Config>): FeatureSource | null {
  if (process.env.BENCH_FEATURES === 'fallback') return null;
  try {
    // Loaded at run time: these modules are in flux, and may not exist in every build.
    const f = require('../src/grouping/features') as Record<string, unknown>;
    const w = require('../workers/intake/worker') as Record<string, unknown>;
    if (typeof f.reportFeatures !== 'function' || typeof w.taggingRulesFor !== 'function') return null;
    const reportFeatures = f.reportFeatures as AnyFn;
    const rules = { short: cfg.grouping, tagging: (w.taggingRulesFor as AnyFn)(cfg) };
    const compute = (text: string, sentAt: Date, receivedAt: Date) => {
      const r = reportFeatures({ text, sentAt, receivedAt, hasAttachment: false }, rules) as Partial<BulkFeatures>;
      return {
        fingerprint: r.fingerprint ?? null,
        minhash: r.minhash ?? null,
        bands: r.bands ?? (r.minhash ? bandKeys(r.minhash) : []),
        matchKeys: r.matchKeys ?? [],
        language: (r.language as string | null | undefined) ?? null,
        tags: r.tags ?? [],
        places: r.places ?? [],
        entities: r.entities ?? null,
        priority: r.priority ?? 'normal',
        noise: r.noise === true,
        topicBreak: r.topicBreak === true,
      };
    };
    // One call now: a shape that changed fails here, not a million rows later.
    const probe = compute('Explosion near the bridge in Mosul at 10:30, 3 injured', new Date(), new Date());
    if (typeof probe.fingerprint !== 'string' || !(probe.minhash instanceof Int32Array)) return null;
    return { name: 'intake reportFeatures (src/grouping/features)', compute };
  } catch {
    return null;
  }
}

const KNOWN_PLACES = new Set(
  [
    'الموصل كركوك اربيل بغداد البصره تلعفر سنجار الحويجه تكريت سامراء الرمادي الفلوجه بعقوبه دهوك السليمانيه القياره بيجي الشرقاط خانقين جلولاء الكوت الناصريه',
    'هەولێر سلێماني کەرکووک دهۆک هەڵەبجە ڕانیە کۆیە زاخۆ سۆران',
    'mosul kirkuk erbil baghdad basra sinjar hawija tikrit samarra ramadi fallujah baqubah duhok qayyarah baiji shirqat khanaqin',
    'mossoul kirkouk bagdad bassora falloujah baqouba dohuk souleimaniye',
  ]
    .join(' ')
    .split(' ')
    .map((p) => normalizeForMatch(p)),
);

function fallbackFeatures(cfg: Readonly<Config>): FeatureSource {
  return {
    name: 'fallback (textFingerprint + minhashSignature + bandKeys; look-alike keys: bench stand-in)',
    compute(text) {
      // textFingerprint's own steps, so the text is normalized once (checked against it below).
      const normalized = normalizeForMatch(text);
      const fingerprint = isTooShortToMatch(normalized, cfg.grouping) ? null : 't' + createHash('sha256').update(normalized).digest('hex').slice(0, 40);
      const minhash = fingerprint ? minhashSignature(normalized) : null;
      const words = normalized.split(' ');
      const places = [...new Set(words.filter((w) => KNOWN_PLACES.has(w)))];
      const numbers = [...new Set(words.filter((w) => /^\d+$/.test(w)))];
      return {
        fingerprint,
        minhash,
        bands: minhash ? bandKeys(minhash) : [],
        matchKeys: [...places.map((p) => `p:${p}`), ...numbers.map((n) => `n:${n}`)],
        language: detectLanguage(text),
        tags: [],
        places,
        entities: null,
        priority: 'normal',
        noise: false,
        topicBreak: false,
      };
    },
  };
}

export function featureSource(cfg: Readonly<Config>): FeatureSource {
  const intake = intakeFeatures(cfg);
  if (intake) return intake;
  const fallback = fallbackFeatures(cfg);
  const probe = 'Fwd: Explosion near the bridge in Mosul at 10:30, 3 injured 🔴';
  if (fallback.compute(probe, new Date(), new Date()).fingerprint !== textFingerprint(probe, cfg.grouping)) {
    throw new Error('bench fallback fingerprint differs from textFingerprint: update bench/features.ts');
  }
  return fallback;
}
