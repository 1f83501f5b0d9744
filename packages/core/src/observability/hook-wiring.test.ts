import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { Predict } from '../modules/predict.ts';
import { Tool } from '../modules/tool.ts';
import type { Callback } from '../settings/callbacks.ts';
import { context } from '../settings/settings.ts';
import { DummyLM } from '../testing/dummy-lm.ts';

function recorder(): { callback: Callback; events: string[] } {
  const events: string[] = [];
  const callback: Callback = {
    onAdapterFormatStart: () => events.push('format:start'),
    onAdapterFormatEnd: (_id, _out, error) => events.push(error ? 'format:error' : 'format:end'),
    onAdapterParseStart: (_id, _instance, inputs) => events.push(`parse:start:${String(inputs.completion)}`),
    onAdapterParseEnd: (_id, outputs) => events.push(`parse:end:${JSON.stringify(outputs)}`),
    onToolStart: (_id, _instance, inputs) => events.push(`tool:start:${JSON.stringify(inputs)}`),
    onToolEnd: (_id, outputs, error) =>
      events.push(error ? `tool:error:${(error as Error).message}` : `tool:end:${outputs}`),
  };
  return { callback, events };
}

describe('adapter and tool calls fire their callbacks', () => {
  it('brackets formatting and parsing of a Predict call', async () => {
    const { callback, events } = recorder();
    await context({ callbacks: [callback], lm: new DummyLM([{ answer: 'Paris' }]) }, () =>
      new Predict('question -> answer').call({ question: 'Capital of France?' }),
    );
    expect(events).toEqual([
      'format:start',
      'format:end',
      'parse:start:[[ ## answer ## ]]\nParis',
      'parse:end:{"answer":"Paris"}',
    ]);
  });

  it('brackets tool calls, including failed argument validation', async () => {
    const { callback, events } = recorder();
    const add = new Tool(({ a, b }: { a: number; b: number }) => a + b, {
      name: 'add',
      description: 'Adds two numbers.',
      args: z.object({ a: z.number(), b: z.number() }),
    });
    await context({ callbacks: [callback] }, async () => {
      await add.call({ a: 1, b: 2 });
      await expect(add.call({ a: 1 })).rejects.toThrow();
    });
    expect(events[0]).toBe('tool:start:{"a":1,"b":2}');
    expect(events[1]).toBe('tool:end:3');
    expect(events[2]).toBe('tool:start:{"a":1}');
    expect(events[3]).toMatch(/^tool:error:/);
  });
});
