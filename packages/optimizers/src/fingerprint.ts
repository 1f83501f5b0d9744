import { createHash } from 'node:crypto';
import { Example, isLanguageModel, Module } from '@dspy-ts/core';

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/**
 * A JSON-compatible, key-sorted description of `value` for hashing: examples become their data plus input keys,
 * modules their class name and saved state, LMs their model id, functions a hash of their source text.
 */
function canonical(value: unknown, seen: Set<object>): unknown {
  if (value === null || value === undefined) return null;
  if (typeof value === 'function') return { function: value.name, source: sha256(String(value)) };
  if (typeof value === 'bigint') return value.toString();
  if (typeof value !== 'object') return value;
  if (seen.has(value)) return '[circular]';
  seen.add(value);
  try {
    if (value instanceof Example) {
      return { example: canonical(value.toDict(), seen), inputs: [...(value.inputKeys ?? [])].sort() };
    }
    if (value instanceof Module) return { module: value.constructor.name, state: canonical(value.dumpState(), seen) };
    if (isLanguageModel(value)) return { lm: value.modelId, defaults: canonical(value.defaults ?? {}, seen) };
    if (Array.isArray(value)) return value.map((item) => canonical(item, seen));
    if (value instanceof Map) return canonical(Object.fromEntries(value), seen);
    if (value instanceof Set) return [...value].map((item) => canonical(item, seen));
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) out[key] = canonical((value as Record<string, unknown>)[key], seen);
    return out;
  } finally {
    seen.delete(value);
  }
}

/** A stable SHA-256 of `value` (see the canonical form above): equal configurations and data hash equally. */
export function fingerprint(value: unknown): string {
  return sha256(JSON.stringify(canonical(value, new Set())));
}

/** One fingerprint per named part, so a mismatch can say which part changed. */
export function fingerprintParts(parts: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(Object.entries(parts).map(([name, value]) => [name, fingerprint(value)]));
}
