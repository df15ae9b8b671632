/** Tagging: rule data from config/ and what a tip's text says by it. */
export { loadTaggingRules } from './load';
export { analyzeText, priorityOf, type Analysis, type MessageTimes } from './analyze';
export { extractEntities, type Entities } from './entities';
export * from './vocabulary';
