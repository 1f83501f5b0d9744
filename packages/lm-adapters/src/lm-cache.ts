import { homedir } from 'node:os';
import { join } from 'node:path';
import type { LMRequest, LMResponse } from '@dspy-ts/core';
import { LRUCache } from 'lru-cache';
import { embeddingKey, requestKey } from './canonical-request.ts';
import { SqliteStore } from './sqlite-store.ts';

/** Options of {@link LMCache}. */
export interface LMCacheOptions {
  /** Keep an in-memory LRU level. Default `true`. */
  memory?: boolean;
  /** Entries kept in memory. Default 100,000. */
  memoryMaxEntries?: number;
  /**
   * The persistent SQLite level: `false` (default) for none, `true` for {@link defaultCacheDir}`/lm-cache.sqlite`,
   * or a file path.
   */
  disk?: boolean | string;
  /** Size limit of the disk level in bytes; least-recently-used rows are evicted beyond it. Default 1 GiB. */
  diskSizeLimitBytes?: number;
  /** How long a disk write waits for another process's lock. Default 5000 ms. */
  busyTimeoutMs?: number;
  /** Receives warnings (disk level unusable, lock timeouts). Default: `process.emitWarning`. */
  onWarning?: (message: string) => void;
}

/** Directory of the default disk cache: `$DSPY_CACHEDIR`, else `~/.dspy_cache` (as in DSPy). */
export function defaultCacheDir(): string {
  return process.env.DSPY_CACHEDIR || join(homedir(), '.dspy_cache');
}

/** What the cache holds: LM responses, and embedding vectors (under keys of their own, {@link embeddingKey}). */
type CachedValue = LMResponse | Float32Array;

/**
 * DSPy's two-level response cache: an in-memory LRU (via `lru-cache`) in front of a SQLite file shared between
 * processes. Keys are SHA-256 hashes of the canonical request ({@link requestKey}); values are responses as the
 * provider returned them. Embedders store one vector per text in the same levels ({@link LMCache.getEmbedding}).
 * Reads return deep copies, so callers may mutate what they get. Disk hits are promoted to memory. With both levels
 * off, {@link LMCache.enabled} is false and callers skip computing keys altogether.
 *
 * @example
 * ```ts
 * const cache = new LMCache({ disk: './.cache/lm.sqlite', diskSizeLimitBytes: 100 * 1024 ** 2 });
 * const lm = fromAISDK(openai('gpt-4o-mini'), { cache });
 * ```
 */
export class LMCache {
  private readonly memory: LRUCache<string, CachedValue> | undefined;
  private readonly disk: SqliteStore | undefined;

  constructor(options: LMCacheOptions = {}) {
    if (options.memory !== false) {
      this.memory = new LRUCache<string, CachedValue>({ max: options.memoryMaxEntries ?? 100_000 });
    }
    if (options.disk) {
      const path = options.disk === true ? join(defaultCacheDir(), 'lm-cache.sqlite') : options.disk;
      const storeOptions: ConstructorParameters<typeof SqliteStore>[1] = {};
      if (options.diskSizeLimitBytes !== undefined) storeOptions.sizeLimitBytes = options.diskSizeLimitBytes;
      if (options.busyTimeoutMs !== undefined) storeOptions.busyTimeoutMs = options.busyTimeoutMs;
      if (options.onWarning !== undefined) storeOptions.onWarning = options.onWarning;
      this.disk = new SqliteStore(path, storeOptions);
    }
  }

  /** True when at least one level is on. */
  get enabled(): boolean {
    return this.memory !== undefined || this.disk?.available === true;
  }

  /** True while the disk level is configured and usable. */
  get diskAvailable(): boolean {
    return this.disk?.available === true;
  }

  /** The cache key of `request` sent to `model` (see {@link requestKey}). */
  keyFor(model: string, request: LMRequest, namespace?: string): string {
    return requestKey(model, request, namespace);
  }

  /** The cache key of one text embedded by `model` with `providerOptions` (see {@link embeddingKey}). */
  keyForEmbedding(model: string, value: string, providerOptions?: Record<string, Record<string, unknown>>): string {
    return embeddingKey(model, value, providerOptions);
  }

  /** A deep copy of the cached response for `key`, or `undefined`. */
  get(key: string): LMResponse | undefined {
    const fromMemory = this.memory?.get(key);
    if (fromMemory) return fromMemory instanceof Float32Array ? undefined : structuredClone(fromMemory);
    const value = this.readDisk(key);
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
    this.memory?.set(key, value as LMResponse);
    return structuredClone(value as LMResponse);
  }

  /** Stores a copy of `response` under `key` in every enabled level. */
  set(key: string, response: LMResponse): void {
    const { cacheHit: _cacheHit, ...stored } = response;
    const copy = structuredClone(stored) as LMResponse;
    this.memory?.set(key, copy);
    this.disk?.set(key, JSON.stringify(copy));
  }

  /** A copy of the cached embedding vector for `key` ({@link LMCache.keyForEmbedding}), or `undefined`. */
  getEmbedding(key: string): Float32Array | undefined {
    const fromMemory = this.memory?.get(key);
    if (fromMemory) return fromMemory instanceof Float32Array ? fromMemory.slice() : undefined;
    const value = this.readDisk(key);
    if (!Array.isArray(value) || !value.every((item) => typeof item === 'number')) return undefined;
    const vector = Float32Array.from(value as number[]);
    this.memory?.set(key, vector);
    return vector.slice();
  }

  /** Stores a copy of an embedding vector under `key` in every enabled level (exactly: float32 survives JSON). */
  setEmbedding(key: string, vector: Float32Array): void {
    const copy = vector.slice();
    this.memory?.set(key, copy);
    this.disk?.set(key, JSON.stringify(Array.from(copy)));
  }

  private readDisk(key: string): unknown {
    const text = this.disk?.get(key);
    if (text === undefined) return undefined;
    try {
      return JSON.parse(text);
    } catch {
      return undefined;
    }
  }

  /** Empties the in-memory level (DSPy's `reset_memory_cache`). */
  resetMemory(): void {
    this.memory?.clear();
  }

  /** Number of entries in the memory and disk levels. */
  stats(): { memoryEntries: number; diskEntries: number; diskBytes: number } {
    return {
      memoryEntries: this.memory?.size ?? 0,
      diskEntries: this.disk?.size() ?? 0,
      diskBytes: this.disk?.totalBytes() ?? 0,
    };
  }

  /** Closes the disk level's file handle; the memory level keeps working. */
  close(): void {
    this.disk?.close();
  }
}

let defaultCache: LMCache | undefined;

/**
 * The cache LMs use unless given their own: memory plus a disk level in {@link defaultCacheDir}, created on first
 * use. Replace it with {@link configureCache}.
 */
export function getDefaultCache(): LMCache {
  defaultCache ??= new LMCache({ disk: true });
  return defaultCache;
}

/**
 * Replaces the default cache (DSPy's `configure_cache`). Pass `{ memory: false, disk: false }` to turn caching off
 * for every LM that uses the default. LMs created earlier keep the cache they resolved at their first call.
 */
export function configureCache(options: LMCacheOptions | LMCache): LMCache {
  defaultCache?.close();
  defaultCache = options instanceof LMCache ? options : new LMCache(options);
  return defaultCache;
}
