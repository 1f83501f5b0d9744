/**
 * Builds LMs over the real AI SDK client stack (`@ai-sdk/openai-compatible`) pointed at a local test server.
 *
 * @module
 */
import { createOpenAICompatible } from '@ai-sdk/openai-compatible';
import { type AISDKLM, type FromAISDKOptions, fromAISDK } from '../src/from-ai-sdk.ts';
import type { OpenAIServer } from './openai-server.ts';

/** The API key the tests send; it must never show up in errors or saved state. */
export const TEST_API_KEY = 'sk-test-0123456789abcdef';

/** An OpenAI-compatible provider named `local` talking to `server`. */
export function localProvider(server: Pick<OpenAIServer, 'baseURL'>) {
  return createOpenAICompatible({ baseURL: server.baseURL, name: 'local', apiKey: TEST_API_KEY, includeUsage: true });
}

/** An LM over `server` with fast retries and no cache unless `options` say otherwise. */
export function localLM(server: Pick<OpenAIServer, 'baseURL'>, options: FromAISDKOptions = {}): AISDKLM {
  return fromAISDK(localProvider(server).chatModel('test-model'), {
    cache: false,
    retry: { initialDelayMs: 5, maxDelayMs: 50 },
    ...options,
  });
}
