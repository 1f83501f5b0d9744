import * as api from '@opentelemetry/api';
import { afterEach, describe, expect, it } from 'vitest';
import { Evaluate } from '../evaluate/evaluate.ts';
import { Module, type ModuleCallOptions } from '../modules/module.ts';
import { Predict } from '../modules/predict.ts';
import { Example } from '../primitives/example.ts';
import type { Prediction } from '../primitives/prediction.ts';
import { withCallbacks } from '../settings/callbacks.ts';
import { configure } from '../settings/settings.ts';
import { ScriptedLM } from '../testing/scripted-lm.ts';
import { InMemoryTracerProvider } from './in-memory-tracer.ts';
import { createOpenTelemetryCallback, openTelemetryCallback } from './open-telemetry.ts';

afterEach(() => configure({ lm: undefined, callbacks: undefined }));

class Lookup extends Module<{ question: string }, Prediction> {
  query = new Predict('question -> query');
  answer = new Predict('question, passage -> answer');
  async forward({ question }: { question: string }, options?: ModuleCallOptions) {
    const { query } = await this.query.call({ question }, options);
    const passage = await withCallbacks(
      'tool',
      { name: 'search', desc: 'Finds passages.' },
      { query },
      async () => `passage for ${query}`,
    );
    return this.answer.call({ question, passage }, options);
  }
}

const lm = new ScriptedLM(
  (request) => {
    const last = String(request.messages.at(-1)?.content);
    if (last.includes('[[ ## passage ## ]]')) return '[[ ## answer ## ]]\nParis';
    if (last.includes('fail')) throw new Error('provider down');
    return '[[ ## query ## ]]\ncapital of France';
  },
  { modelId: 'openai/gpt-4o-mini', usage: { inputTokens: 11, outputTokens: 3 } },
);

describe('OpenTelemetry spans', () => {
  it('records one span per module, LM and tool call with GenAI attributes, parented correctly', async () => {
    const provider = new InMemoryTracerProvider();
    configure({ lm, callbacks: [openTelemetryCallback(api, { tracerProvider: provider })] });
    await new Lookup().call({ question: 'Capital of France?' });

    const names = provider.spans.map((s) => s.name);
    expect(names).toEqual([
      'Lookup.call',
      'Predict.call',
      'ChatAdapter.format',
      'chat openai/gpt-4o-mini',
      'ChatAdapter.parse',
      'execute_tool search',
      'Predict.call',
      'ChatAdapter.format',
      'chat openai/gpt-4o-mini',
      'ChatAdapter.parse',
    ]);
    expect(provider.spans.every((s) => s.ended)).toBe(true);
    const [root, firstPredict, firstFormat, firstChat, firstParse, tool, secondPredict, , secondChat] = provider.spans;
    // Formatting and parsing are children of the predictor, siblings of the LM call.
    expect(firstFormat?.parentSpanId).toBe(firstPredict?.spanId);
    expect(firstParse?.parentSpanId).toBe(firstPredict?.spanId);
    expect(root?.parentSpanId).toBeUndefined();
    expect(firstPredict?.parentSpanId).toBe(root?.spanId);
    expect(firstChat?.parentSpanId).toBe(firstPredict?.spanId);
    expect(tool?.parentSpanId).toBe(root?.spanId);
    expect(secondPredict?.parentSpanId).toBe(root?.spanId);
    expect(secondChat?.parentSpanId).toBe(secondPredict?.spanId);
    expect(new Set(provider.spans.map((s) => s.traceId)).size).toBe(1);
    expect(firstChat?.attributes).toMatchObject({
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'openai/gpt-4o-mini',
      'gen_ai.response.model': 'openai/gpt-4o-mini',
      'gen_ai.usage.input_tokens': 11,
      'gen_ai.usage.output_tokens': 3,
      'gen_ai.response.finish_reasons': ['stop'],
    });
    expect(firstChat?.attributes['gen_ai.input.messages']).toBeUndefined();
    expect(tool?.attributes).toMatchObject({
      'gen_ai.operation.name': 'execute_tool',
      'gen_ai.tool.name': 'search',
      'gen_ai.tool.description': 'Finds passages.',
    });
  });

  it('captures content on request, marks failures and nests programs under the evaluation', async () => {
    const provider = new InMemoryTracerProvider();
    configure({ lm, callbacks: [openTelemetryCallback(api, { tracerProvider: provider, captureContent: true })] });
    const devset = ['Capital?', 'fail please'].map((question) => new Example({ question }).withInputs('question'));
    await new Evaluate({ devset, metric: () => 1, numThreads: 2, logger: { info() {}, error() {} } }).call(
      new Lookup(),
    );

    const evaluate = provider.spans.find((s) => s.name === 'Evaluate.evaluate');
    const programs = provider.spans.filter((s) => s.name === 'Lookup.call');
    expect(programs).toHaveLength(2);
    for (const program of programs) expect(program.parentSpanId).toBe(evaluate?.spanId);
    const failedChat = provider.spans.find(
      (s) => s.name.startsWith('chat') && s.status?.code === api.SpanStatusCode.ERROR,
    );
    expect(failedChat?.attributes['error.type']).toBe('Error');
    expect(provider.ancestry(failedChat as never)).toEqual([
      'chat openai/gpt-4o-mini',
      'Predict.call',
      'Lookup.call',
      'Evaluate.evaluate',
    ]);
    const okChat = provider.spans.find((s) => s.name.startsWith('chat') && s.attributes['gen_ai.output.messages']);
    expect(String(okChat?.attributes['gen_ai.input.messages'])).toContain('Capital?');
  });

  it('loads the API lazily and stays silent without a registered SDK', async () => {
    const callback = await createOpenTelemetryCallback();
    configure({ lm, callbacks: [callback] });
    const result = await new Lookup().call({ question: 'Capital?' });
    expect(result.answer).toBe('Paris');
  });
});
