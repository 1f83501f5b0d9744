import { randomUUID } from 'node:crypto';
import { currentCallerModules } from '../modules/call-stack.ts';
import { withCallbacks } from '../settings/callbacks.ts';
import { getSetting } from '../settings/settings.ts';
import { StreamResponseBuilder } from '../streaming/response-builder.ts';
import { activeStreamObserver, type LMStreamObserver } from '../streaming/stream-context.ts';
import { type HistoryEntry, recordHistory } from './history.ts';
import type { LanguageModelV1, LMRequest, LMResponse } from './spec.ts';
import { activeUsageTrackers } from './usage.ts';

function withoutUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

/**
 * Sends `request` through `lm.stream()` when the LM has one, passing the first choice's text to the stream as it
 * arrives and rebuilding the full response from the parts. LMs without `stream()` answer through `generate` and
 * their whole text is passed on as one piece. Cache hits pass nothing on.
 */
async function generateStreaming(
  lm: LanguageModelV1,
  request: LMRequest,
  observer: LMStreamObserver,
): Promise<LMResponse> {
  const stream = observer.open(lm, request);
  if (!stream) return lm.generate(request);
  if (typeof lm.stream !== 'function') {
    const response = await lm.generate(request);
    const text = response.choices[0]?.text;
    if (response.cacheHit !== true && text) stream.write(text);
    stream.close(response);
    return response;
  }
  const builder = new StreamResponseBuilder(lm.modelId);
  for await (const part of lm.stream(request)) {
    request.signal?.throwIfAborted();
    builder.add(part);
    if (part.type === 'text-delta' && part.choiceIndex === 0 && part.delta) stream.write(part.delta);
  }
  const response = builder.build();
  stream.close(response);
  return response;
}

/**
 * The single path through which core calls a language model. Adapters and modules call this instead of
 * `lm.generate`, so that defaults, history, usage tracking, callbacks, tracing and streaming apply uniformly:
 *
 * - `lm.defaults` are merged under the request (a request option set to `undefined` keeps the default);
 * - `onLmStart` / `onLmEnd` callbacks fire around the call (see `withCallbacks`);
 * - inside a `streamify` run the request goes through `lm.stream()` and the text reaches the stream as it arrives;
 * - unless `disableHistory` is set, the call is recorded in the global history, the LM's history and the history
 *   of every module whose `call` is running (see `inspectHistory`);
 * - its usage is added to every active `trackUsage` scope, except for cache hits.
 */
export async function callLM(lm: LanguageModelV1, request: LMRequest): Promise<LMResponse> {
  const merged = { ...withoutUndefined(lm.defaults ?? {}), ...withoutUndefined(request) } as LMRequest;
  return withCallbacks('lm', lm, merged, async () => {
    const observer = activeStreamObserver();
    const response = observer ? await generateStreaming(lm, merged, observer) : await lm.generate(merged);

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
    return response;
  });
}
