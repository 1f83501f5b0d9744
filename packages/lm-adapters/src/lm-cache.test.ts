import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import type { LMResponse } from '@dspy-ts/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LMCache } from './lm-cache.ts';

const response = (text: string): LMResponse => ({
  choices: [{ text, finishReason: 'stop' }],
  usage: { inputTokens: 3, outputTokens: 1 },
  modelId: 'm',
});

let dir: string;
const open: LMCache[] = [];
const cache = (options: ConstructorParameters<typeof LMCache>[0]) => {
  const c = new LMCache(options);
  open.push(c);
  return c;
};

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'lm-cache-'));
});
afterEach(() => {
  for (const c of open.splice(0)) c.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('LMCache', () => {
  it('returns deep copies, so callers cannot corrupt cached entries', () => {
    const c = cache({});
    c.set('k', response('a'));
    const first = c.get('k') as LMResponse;
    (first.choices[0] as { text: string }).text = 'mutated';
    expect(c.get('k')?.choices[0]?.text).toBe('a');
  });

  it('persists to SQLite and promotes disk hits to memory', () => {
    const path = join(dir, 'c.sqlite');
    cache({ disk: path }).set('k', response('persisted'));
    const fresh = cache({ disk: path });
    expect(fresh.stats().memoryEntries).toBe(0);
    expect(fresh.get('k')?.choices[0]?.text).toBe('persisted');
    expect(fresh.stats().memoryEntries).toBe(1);
  });

  it('evicts least-recently-used rows beyond the size limit', () => {
    const path = join(dir, 'c.sqlite');
    const rowBytes = JSON.stringify(response('x'.repeat(100))).length + 2;
    const c = cache({ memory: false, disk: path, diskSizeLimitBytes: rowBytes * 5 });
    for (let i = 0; i < 4; i++) c.set(`k${i}`, response(`${i}`.repeat(100)));
    // Reading k0 makes it recent, so k1 is now the least recently used.
    expect(c.get('k0')).toBeDefined();
    // Six rows exceed the limit of five: the two least recently used (k1, k2) go, down to 90% of the limit.
    c.set('k4', response('4'.repeat(100)));
    c.set('k5', response('5'.repeat(100)));
    expect(c.stats()).toMatchObject({ diskEntries: 4 });
    expect(c.stats().diskBytes).toBeLessThanOrEqual(rowBytes * 5);
    expect(c.get('k1')).toBeUndefined();
    expect(c.get('k2')).toBeUndefined();
    expect(c.get('k0')).toBeDefined();
    expect(c.get('k5')).toBeDefined();
  });

  it('degrades to memory-only with one warning when the file is not a database', () => {
    const path = join(dir, 'corrupt.sqlite');
    writeFileSync(path, 'this is not a SQLite database '.repeat(200));
    const warnings: string[] = [];
    const c = cache({ disk: path, onWarning: (m) => warnings.push(m) });
    expect(c.diskAvailable).toBe(false);
    expect(c.enabled).toBe(true);
    c.set('k', response('still cached'));
    expect(c.get('k')?.choices[0]?.text).toBe('still cached');
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/cannot be used.*in-memory/);
  });

  it('skips writes while another connection holds the write lock, without throwing', () => {
    const path = join(dir, 'locked.sqlite');
    const warnings: string[] = [];
    const c = cache({ disk: path, busyTimeoutMs: 20, memory: false, onWarning: (m) => warnings.push(m) });
    const other = new DatabaseSync(path);
    other.exec('BEGIN IMMEDIATE');
    try {
      expect(() => c.set('k', response('x'))).not.toThrow();
      expect(warnings.some((w) => /locked/.test(w))).toBe(true);
    } finally {
      other.exec('ROLLBACK');
      other.close();
    }
    // The lock is gone: the store works again.
    c.set('k', response('x'));
    expect(c.get('k')).toBeDefined();
  });

  it('reports itself disabled when both levels are off', () => {
    expect(cache({ memory: false, disk: false }).enabled).toBe(false);
  });
});
