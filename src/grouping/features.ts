/**
 * What the intake worker works out of a message before grouping: the exact fingerprint, the MinHash
 * signature and band keys, the report's language, its tags, places, entities and priority (from the
 * rules in config/), the keys of the look-alike veto, and whether it is noise or opens another
 * subject. Pure and synchronous: it runs once per message on the worker's event loop.
 */
import { createHash } from 'node:crypto';
import { isTooShortToMatch, type ShortTextRule } from './fingerprint';
import { bandKeys, minhashSignature } from './minhash';
import { isNoise, isTopicBreak } from './noise';
import { identifyLanguage, type ReportLanguage } from '../language/identify';
import { normalizeForMatch } from '../text/normalize';
import { analyzeText } from '../tagging/analyze';
import type { TaggingRules } from '../tagging/load';
import type { Entities } from '../tagging/entities';

export type Priority = 'low' | 'normal' | 'high' | 'urgent';

export interface ReportFeatures {
  readonly fingerprint: string | null;
  readonly minhash: Int32Array | null;
  readonly bands: readonly number[];
  readonly matchKeys: readonly string[];
  readonly language: ReportLanguage;
  readonly tags: readonly string[];
  readonly places: readonly string[];
  readonly entities: Entities | null;
  readonly priority: Priority;
  readonly noise: boolean;
  readonly topicBreak: boolean;
}

export interface FeatureInput {
  readonly text: string | null;
  readonly sentAt: Date;
  readonly receivedAt: Date;
  /** A photo, a location: a message with something besides text is never noise. */
  readonly hasAttachment: boolean;
}

export interface FeatureRules {
  readonly short: ShortTextRule;
  readonly tagging: TaggingRules;
}

const hasAny = (e: Entities) => e.phones.length + e.urls.length + e.emails.length + e.wallets.length > 0;

export function reportFeatures(msg: FeatureInput, rules: FeatureRules): ReportFeatures {
  const text = msg.text && msg.text.trim() ? msg.text : null;
  const normalized = text ? normalizeForMatch(text) : '';
  const short = isTooShortToMatch(normalized, rules.short);
  const analysis = analyzeText(rules.tagging, text, { sentAt: msg.sentAt, receivedAt: msg.receivedAt });
  const noise = !!text && !msg.hasAttachment && !analysis.tags.length && !analysis.places.length && isNoise(normalized);
  const fingerprint = !text || short || noise ? null : 't' + createHash('sha256').update(normalized).digest('hex').slice(0, 40);
  const minhash = fingerprint ? minhashSignature(normalized) : null;
  return {
    fingerprint,
    minhash,
    bands: minhash ? bandKeys(minhash) : [],
    matchKeys: [
      ...analysis.places.map((p) => `p:${p}`),
      ...analysis.numbers.map((n) => `n:${n}`),
      ...analysis.days.map((d) => (d.startsWith('d:') ? d : `d:${d}`)), // explicit dates come as "d:06-10" already
    ],
    language: identifyLanguage(text),
    tags: analysis.tags,
    places: analysis.places,
    entities: hasAny(analysis.entities) ? analysis.entities : null,
    priority: analysis.priority,
    noise,
    topicBreak: !!text && isTopicBreak(normalized),
  };
}
