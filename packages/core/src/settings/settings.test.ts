import { afterEach, describe, expect, it } from 'vitest';
import { callLM } from '../lm/call.ts';
import { ScriptedLM } from '../testing/scripted-lm.ts';
import { configure, context, currentSettings, DEFAULT_SETTINGS, settings } from './settings.ts';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

afterEach(() => {
  configure({ lm: undefined, numThreads: undefined, trackUsage: undefined, trace: undefined });
});

describe('settings', () => {
  it("starts from DSPy's defaults", () => {
    expect(settings.lm).toBeNull();
    expect(settings.adapter).toBeNull();
    expect(settings.numThreads).toBe(8);
    expect(settings.maxErrors).toBe(10);
    expect(settings.maxHistorySize).toBe(10_000);
    expect(settings.maxTraceSize).toBe(10_000);
    expect(settings.disableHistory).toBe(false);
    expect(settings.warnOnTypeMismatch).toBe(true);
    expect(settings.trackUsage).toBe(false);
    expect(settings.trace).toEqual([]);
    expect(Object.keys(currentSettings()).sort()).toEqual(Object.keys(DEFAULT_SETTINGS).sort());
  });

  it('configure sets globals; undefined restores the default', () => {
    const lm = new ScriptedLM(() => '');
    configure({ lm, numThreads: 2 });
    expect(settings.lm).toBe(lm);
    expect(settings.numThreads).toBe(2);
    configure({ numThreads: undefined });
    expect(settings.numThreads).toBe(8);
    expect(settings.lm).toBe(lm);
  });

  it('rejects unknown keys with the list of valid ones', () => {
    expect(() => configure({ temperature: 1 } as never)).toThrow(/unknown setting "temperature".*numThreads/);
    expect(() => context({ nope: 1 } as never, () => 0)).toThrow(/context\(\): unknown setting "nope"/);
  });

  it('context overrides nest and end with their scope', async () => {
    const global = new ScriptedLM(() => '', { modelId: 'global' });
    const scoped = new ScriptedLM(() => '', { modelId: 'scoped' });
    configure({ lm: global });
    await context({ lm: scoped, numThreads: 3 }, async () => {
      await sleep(1);
      expect(settings.lm).toBe(scoped);
      await context({ numThreads: 5 }, async () => {
        expect(settings.lm).toBe(scoped);
        expect(settings.numThreads).toBe(5);
      });
      expect(settings.numThreads).toBe(3);
    });
    expect(settings.lm).toBe(global);
    expect(settings.numThreads).toBe(8);
  });

  it('keeps concurrent scopes apart even when their awaits interleave', async () => {
    const order: string[] = [];
    const lmA = new ScriptedLM(
      async () => {
        await sleep(5);
        return 'A';
      },
      { modelId: 'a' },
    );
    const lmB = new ScriptedLM(
      async () => {
        await sleep(1);
        return 'B';
      },
      { modelId: 'b' },
    );

    const run = (name: string, delays: number[]) => async () => {
      const seen: string[] = [];
      for (const delay of delays) {
        await sleep(delay);
        order.push(name);
        const lm = settings.lm;
        if (!lm) throw new Error('no LM in scope');
        const response = await callLM(lm, { messages: [{ role: 'user', content: name }] });
        seen.push(response.choices[0]?.text ?? '');
      }
      return seen;
    };

    const [a, b] = await Promise.all([
      context({ lm: lmA }, run('a', [0, 8, 0])),
      context({ lm: lmB }, run('b', [2, 0, 3])),
    ]);
    expect(a).toEqual(['A', 'A', 'A']);
    expect(b).toEqual(['B', 'B', 'B']);
    // The scopes really did interleave.
    expect(order.join('')).not.toMatch(/^(aaabbb|bbbaaa)$/);
    expect(lmA.requests.map((r) => r.messages[0]?.content)).toEqual(['a', 'a', 'a']);
    expect(lmB.requests.map((r) => r.messages[0]?.content)).toEqual(['b', 'b', 'b']);
    expect(settings.lm).toBeNull();
  });

  it('settings is read-only', () => {
    expect(() => {
      (settings as { numThreads: number }).numThreads = 1;
    }).toThrow(TypeError);
  });
});
