/**
 * The evidence an adapter keeps of a platform payload (`InboundMessage.raw`) is an allow-list: a
 * spec of the fields that name no one, copied with their types checked; anything not listed
 * (ids, names, numbers, a field the platform adds later) is left out. Shared by the channels on
 * the ground floor, beside the contract that asks for it.
 */
export type AllowSpec = 'string' | 'number' | 'boolean' | { readonly [k: string]: AllowSpec } | readonly ['array', AllowSpec, number];

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** `v` as the spec allows it: listed fields of the listed types, arrays cut at their maximum; undefined where nothing is allowed. */
export function copyAllowed(v: unknown, spec: AllowSpec): unknown {
  if (spec === 'string') return typeof v === 'string' ? v : undefined;
  if (spec === 'number') return typeof v === 'number' && Number.isFinite(v) ? v : undefined;
  if (spec === 'boolean') return typeof v === 'boolean' ? v : undefined;
  if (Array.isArray(spec)) {
    if (!Array.isArray(v)) return undefined;
    const [, item, max] = spec as readonly ['array', AllowSpec, number];
    return v.slice(0, max).map((x) => copyAllowed(x, item)).filter((x) => x !== undefined);
  }
  if (!isObj(v)) return undefined;
  const out: Record<string, unknown> = {};
  for (const [k, s] of Object.entries(spec as { readonly [k: string]: AllowSpec })) {
    const c = copyAllowed(v[k], s);
    if (c !== undefined) out[k] = c;
  }
  return out;
}
