import { afterEach, describe, expect, it, vi } from 'vitest';
import { withCallerModule } from '../modules/call-stack.ts';
import type { Callback } from '../settings/callbacks.ts';
import { configure, context } from '../settings/settings.ts';
import { ScriptedLM } from '../testing/scripted-lm.ts';
import { callLM } from './call.ts';
import {
  clearHistory,
  globalLMHistory,
  type HistoryEntry,
  inspectHistory,
  inspectLMHistory,
  lmHistory,
} from './history.ts';
import type { LMMessage } from './spec.ts';
import { trackUsage } from './usage.ts';

const messages: LMMessage[] = [
  { role: 'system', content: 'Your input fields are:\n1. `question` (str):' },
  { role: 'user', content: '[[ ## question ## ]]\nWhat is 2+2?' },
];

afterEach(() => {
  configure({ disableHistory: undefined, maxHistorySize: undefined, callbacks: undefined });
  clearHistory();
});

describe('callLM', () => {
  it('merges the LM defaults under the request, request options winning', async () => {
    const lm = new ScriptedLM(() => 'ok', { defaults: { temperature: 0, maxTokens: 100, stop: ['x'] } });
    await callLM(lm, { messages, temperature: 0.9, stop: undefined });
    expect(lm.lastRequest).toMatchObject({ temperature: 0.9, maxTokens: 100, stop: ['x'] });
  });

  it('records one history entry per call in the global, per-LM and per-module histories', async () => {
    const lm = new ScriptedLM(() => ['four', '4'], {
      modelId: 'test/model',
      usage: { inputTokens: 7, outputTokens: 2 },
    });
    const outer = { history: [] as HistoryEntry[] };
    const inner = { history: [] as HistoryEntry[] };
    const controller = new AbortController();
    await withCallerModule(outer, () =>
      withCallerModule(inner, () => callLM(lm, { messages, n: 2, signal: controller.signal })),
    );
    await callLM(lm, { messages });

    expect(globalLMHistory()).toHaveLength(2);
    expect(lmHistory(lm)).toHaveLength(2);
    expect(outer.history).toHaveLength(1);
    expect(inner.history).toEqual(outer.history);
    const entry = outer.history[0] as HistoryEntry;
    expect(entry.messages).toEqual(messages);
    expect(entry.options).toEqual({ n: 2 });
    expect(entry.outputs).toEqual(['four', '4']);
    expect(entry.usage).toEqual({ inputTokens: 7, outputTokens: 2 });
    expect(entry.modelId).toBe('test/model');
    expect(entry.cacheHit).toBe(false);
    expect(entry.uuid).toMatch(/^[0-9a-f-]{36}$/);
    expect(new Date(entry.timestamp).toISOString()).toBe(entry.timestamp);
  });

  it('bounds every history by maxHistorySize and records nothing with disableHistory', async () => {
    const lm = new ScriptedLM((_r, i) => `reply ${i}`);
    configure({ maxHistorySize: 2 });
    for (let i = 0; i < 3; i++) await callLM(lm, { messages });
    expect(lmHistory(lm).map((e) => e.outputs[0])).toEqual(['reply 1', 'reply 2']);
    expect(globalLMHistory()).toHaveLength(2);

    clearHistory(lm);
    await context({ disableHistory: true }, () => callLM(lm, { messages }));
    expect(globalLMHistory()).toHaveLength(0);
    expect(lmHistory(lm)).toHaveLength(0);
  });

  it('adds usage to every active tracker, per model, skipping cache hits', async () => {
    const a = new ScriptedLM(() => 'a', { modelId: 'a', usage: { inputTokens: 10, outputTokens: 1 } });
    const b = new ScriptedLM(() => 'b', { modelId: 'b', usage: { inputTokens: 3, costUsd: 0.5 } });
    const cached = new ScriptedLM(() => 'c', { modelId: 'a', usage: { inputTokens: 99 }, cacheHit: true });
    const outer = await trackUsage(async () => {
      await callLM(a, { messages });
      const inner = await trackUsage(async () => {
        await callLM(a, { messages });
        await callLM(b, { messages });
        await callLM(cached, { messages });
        return 'done';
      });
      return inner;
    });
    expect(outer.result.result).toBe('done');
    expect(outer.result.usage).toEqual({
      a: { inputTokens: 10, outputTokens: 1 },
      b: { inputTokens: 3, costUsd: 0.5 },
    });
    expect(outer.usage).toEqual({ a: { inputTokens: 20, outputTokens: 2 }, b: { inputTokens: 3, costUsd: 0.5 } });
  });

  it('fires onLmStart and onLmEnd, also when the LM fails, and ignores callbacks that throw', async () => {
    const events: string[] = [];
    const callback: Callback = {
      onLmStart: (id, _lm, request) => events.push(`start ${id.length} ${request.temperature}`),
      onLmEnd: (_id, response, error) => events.push(`end ${response?.choices[0]?.text ?? (error as Error).message}`),
    };
    const throwing: Callback = {
      onLmStart: () => {
        throw new Error('observer bug');
      },
    };
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    configure({ callbacks: [throwing, callback] });
    const ok = new ScriptedLM(() => 'fine', { defaults: { temperature: 0.3 } });
    const failing = new ScriptedLM(() => {
      throw new Error('provider down');
    });
    await callLM(ok, { messages });
    await expect(callLM(failing, { messages })).rejects.toThrow('provider down');
    expect(events).toEqual(['start 36 0.3', 'end fine', 'start 36 undefined', 'end provider down']);
    expect(warn).toHaveBeenCalledTimes(2);
    warn.mockRestore();
  });
});

describe('inspectHistory', () => {
  it("prints the exact messages sent in DSPy's layout", async () => {
    const lm = new ScriptedLM(() => ['[[ ## answer ## ]]\n4\n\n[[ ## completed ## ]]', 'other'], { modelId: 'm' });
    await callLM(lm, { messages, n: 2 });
    const printed: string[] = [];
    const text = inspectHistory(1, { write: (s) => printed.push(s) });
    const timestamp = globalLMHistory()[0]?.timestamp;
    expect(text).toBe(
      `\n\n\n\n[${timestamp}]\n\n` +
        'System message:\n\nYour input fields are:\n1. `question` (str):\n\n\n' +
        'User message:\n\n[[ ## question ## ]]\nWhat is 2+2?\n\n\n' +
        'Response:\n\n[[ ## answer ## ]]\n4\n\n[[ ## completed ## ]]\n\n' +
        ' \t (and 1 other completions)\n\n\n\n\n',
    );
    expect(printed).toEqual([text]);
    expect(inspectLMHistory(lm, 1, { write: false })).toBe(text);
  });

  it('shows the last n calls, oldest first, and only the calls of the given LM', async () => {
    const a = new ScriptedLM(() => 'from a');
    const b = new ScriptedLM(() => 'from b');
    await callLM(a, { messages: [{ role: 'user', content: 'first' }] });
    await callLM(b, { messages: [{ role: 'user', content: 'second' }] });
    const both = inspectHistory(2, { write: false });
    expect(both.indexOf('first')).toBeLessThan(both.indexOf('second'));
    expect(inspectHistory(1, { write: false })).not.toContain('first');
    expect(inspectLMHistory(a, 5, { write: false })).not.toContain('second');
  });

  it('colours headers only when asked', async () => {
    await callLM(new ScriptedLM(() => 'x'), { messages });
    const printed: string[] = [];
    const plain = inspectHistory(1, { write: (s) => printed.push(s), colors: true });
    expect(printed[0]).toContain('\x1b[31mSystem message:\x1b[0m');
    expect(plain).not.toContain('\x1b[');
  });
});
