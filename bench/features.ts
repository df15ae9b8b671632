/**
 * What the intake computes of a text before grouping (fingerprint, MinHash signature and band keys,
 * look-alike keys, language, tags, places, entities, priority, noise), for the bulk-generated log:
 * the intake's own function with the rules the worker loads, so the bulk rows are what the intake
 * would have written.
 */
import type { Config } from '../src/config';
import { reportFeatures, type ReportFeatures } from '../src/grouping/features';
import { loadTaggingRules } from '../src/tagging';

export type BulkFeatures = ReportFeatures;

export interface FeatureSource {
  readonly name: string;
  compute(text: string, sentAt: Date, receivedAt: Date): BulkFeatures;
}

export function featureSource(cfg: Readonly<Config>): FeatureSource {
  const rules = { short: cfg.grouping, tagging: loadTaggingRules(cfg.rulesDir) };
  return {
    name: 'intake reportFeatures (src/grouping/features)',
    compute: (text, sentAt, receivedAt) => reportFeatures({ text, sentAt, receivedAt, hasAttachment: false }, rules),
  };
}
