import { ConfigurationError } from '@dspy-ts/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { localProvider } from '../test/local-lm.ts';
import { type OpenAIServer, startOpenAIServer } from '../test/openai-server.ts';
import { lm, parseModelString } from './provider-registry.ts';

let server: OpenAIServer;
beforeEach(async () => {
  server = await startOpenAIServer();
});
afterEach(async () => {
  await server.close();
});

describe('lm("provider/model")', () => {
  it('resolves the model through a provider registry and calls it', async () => {
    const model = lm('local/test-model', { providers: { local: localProvider(server) }, cache: false, temperature: 0 });
    expect(model.modelId).toBe('local/test-model');
    expect(model.defaults).toEqual({ temperature: 0 });
    const response = await model.generate({ messages: [{ role: 'user', content: 'hi' }] });
    expect(response.choices[0]?.text).toBe('echo: hi');
    expect(server.requests[0]?.body.model).toBe('test-model');
  });

  it('names the package to install when a provider package is missing', async () => {
    const missing = lm('openai/gpt-4o-mini', { cache: false });
    expect(missing.modelId).toBe('openai/gpt-4o-mini');
    const error = await missing.generate({ messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as Error).message).toMatch(/npm install @ai-sdk\/openai/);
  });

  it('explains unknown providers and malformed strings', async () => {
    const error = await lm('nosuch/model', { cache: false })
      .generate({ messages: [{ role: 'user', content: 'hi' }] })
      .catch((e: unknown) => e);
    expect((error as Error).message).toMatch(/Unknown provider "nosuch".*providers: \{ nosuch/s);
    expect(() => lm('gpt-4o-mini')).toThrow(/provider\/model/);
  });

  it('splits at the first slash and resolves LiteLLM aliases', () => {
    expect(parseModelString('together_ai/meta-llama/Llama-3-8b')).toEqual({
      provider: 'togetherai',
      model: 'meta-llama/Llama-3-8b',
    });
  });
});
