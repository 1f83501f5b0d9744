import { randomUUID } from 'node:crypto';
import { currentCallerModules } from '../modules/call-stack.ts';
import { fireCallbacks } from '../settings/callbacks.ts';
import { getSetting } from '../settings/settings.ts';
import { type HistoryEntry, recordHistory } from './history.ts';
import type { LanguageModelV1, LMRequest, LMResponse } from './spec.ts';
import { activeUsageTrackers } from './usage.ts';

function withoutUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/**
 * The single path through which core calls a language model. Adapters and modules call this instead of
 * `lm.generate`, so that defaults, history, usage tracking and callbacks apply uniformly:
 *
 * - `lm.defaults` are merged under the request (a request option set to `undefined` keeps the default);
 * - `onLmStart` / `onLmEnd` callbacks from the settings fire around the call;
 * - unless `disableHistory` is set, the call is recorded in the global history, the LM's history and the history
 *   of every module whose `call` is running (see `inspectHistory`);
 * - its usage is added to every active `trackUsage` scope, except for cache hits.
 */
export async function callLM(lm: LanguageModelV1, request: LMRequest): Promise<LMResponse> {
  const merged = { ...withoutUndefined(lm.defaults ?? {}), ...withoutUndefined(request) } as LMRequest;
  const callbacks = getSetting('callbacks');
  const callId = randomUUID();
  fireCallbacks(callbacks, 'onLmStart', callId, lm, merged);

  let response: LMResponse;
  try {
    response = await lm.generate(merged);
  } catch (error) {
    fireCallbacks(callbacks, 'onLmEnd', callId, undefined, error);
    throw error;
  }

  const cacheHit = response.cacheHit === true;
  if (!cacheHit) {
    for (const tracker of activeUsageTrackers()) tracker.add(lm.modelId, response.usage);
  }

  if (!getSetting('disableHistory')) {
    const { messages, signal: _signal, ...options } = merged;
    const entry: HistoryEntry = {
      messages,
      options,
      response,
      outputs: response.choices.map((choice) => choice.text),
      usage: cacheHit ? {} : response.usage,
      modelId: lm.modelId,
      responseModelId: response.modelId,
      timestamp: new Date().toISOString(),
      uuid: randomUUID(),
      cacheHit,
    };
    recordHistory(entry, lm, currentCallerModules(), getSetting('maxHistorySize'));
  }

  fireCallbacks(callbacks, 'onLmEnd', callId, response, undefined);
  return response;
}
