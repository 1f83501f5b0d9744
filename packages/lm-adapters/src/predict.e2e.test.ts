import { Predict, trackUsage } from '@dspy-ts/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { localLM } from '../test/local-lm.ts';
import { type OpenAIServer, startOpenAIServer } from '../test/openai-server.ts';
import { LMCache } from './lm-cache.ts';

let server: OpenAIServer;
beforeEach(async () => {
  server = await startOpenAIServer({
    reply: () => ({
      text: '[[ ## answer ## ]]\nParis\n\n[[ ## completed ## ]]',
      usage: { prompt_tokens: 120, completion_tokens: 9 },
    }),
  });
});
afterEach(async () => {
  await server.close();
});

describe('core Predict over the local server', () => {
  it('formats with ChatAdapter, calls the provider over HTTP, parses the answer and tracks usage', async () => {
    const lm = localLM(server, {
      cache: new LMCache(),
      temperature: 0,
      pricing: { 'test-model': { inputPerMTok: 1, outputPerMTok: 2 } },
    });
    const qa = new Predict('question -> answer');
    const { result, usage } = await trackUsage(() => qa.call({ question: 'What is the capital of France?' }, { lm }));
    expect(result.answer).toBe('Paris');
    expect(server.requests).toHaveLength(1);
    const body = server.requests[0]?.body as { messages: { role: string; content: string }[]; temperature: number };
    expect(body.temperature).toBe(0);
    expect(body.messages[0]?.role).toBe('system');
    expect(body.messages[0]?.content).toContain('Your input fields are:');
    expect(body.messages.at(-1)?.content).toContain('What is the capital of France?');
    expect(usage[lm.modelId]).toMatchObject({ inputTokens: 120, outputTokens: 9 });
    expect(usage[lm.modelId]?.costUsd).toBeCloseTo((120 + 18) / 1e6, 12);

    // The same call again is a cache hit: no request, and no usage counted.
    const again = await trackUsage(() => qa.call({ question: 'What is the capital of France?' }, { lm }));
    expect(again.result.answer).toBe('Paris');
    expect(server.requests).toHaveLength(1);
    expect(again.usage[lm.modelId]).toBeUndefined();
  });
});
