import * as api from '@opentelemetry/api';
import { afterEach, describe, expect, it } from 'vitest';
import { Evaluate } from '../evaluate/evaluate.ts';
import { trackUsage } from '../lm/usage.ts';
import { Module, type ModuleCallOptions } from '../modules/module.ts';
import { Predict } from '../modules/predict.ts';
import { Example } from '../primitives/example.ts';
import type { Prediction } from '../primitives/prediction.ts';
import { configure, type TraceEntry } from '../settings/settings.ts';
import { ScriptedLM } from '../testing/scripted-lm.ts';
import { InMemoryTracerProvider, type RecordedSpan } from './in-memory-tracer.ts';
import { openTelemetryCallback } from './open-telemetry.ts';

afterEach(() => configure({ lm: undefined, callbacks: undefined, trackUsage: undefined, trace: undefined }));

/** mulberry32: a small seeded generator, so the interleaving is random but the same on every run. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const field = (text: string, name: string) => new RegExp(`\\[\\[ ## ${name} ## \\]\\]\\n(.*)`).exec(text)?.[1];

class Pipeline extends Module<{ question: string }, Prediction> {
  draft = new Predict('question -> draft');
  finish = new Predict('draft -> answer');
  async forward({ question }: { question: string }, options?: ModuleCallOptions) {
    const { draft } = await this.draft.call({ question }, options);
    return this.finish.call({ draft: draft as string }, options);
  }
}

describe('50 concurrent evaluation items', () => {
  it('attribute traces, module histories, spans and usage to the call that made them', async () => {
    const random = seeded(42);
    // Each reply encodes the item number; usage encodes it too, so misattribution changes the numbers.
    const lm = new ScriptedLM(
      async (request) => {
        await new Promise((resolve) => setTimeout(resolve, Math.floor(random() * 8)));
        const last = String(request.messages.at(-1)?.content);
        const question = field(last, 'question');
        if (question) return `[[ ## draft ## ]]\ndraft ${question.replace('q', '')}`;
        return `[[ ## answer ## ]]\nanswer ${field(last, 'draft')?.replace('draft ', '')}`;
      },
      { modelId: 'test/scripted' },
    );
    const usageOf = (n: number) => ({ inputTokens: n, outputTokens: 1 });
    // Usage per call depends on the item, read back from the request the LM received.
    const generate = lm.generate.bind(lm);
    lm.generate = async (request) => {
      const response = await generate(request);
      const last = String(request.messages.at(-1)?.content);
      const n = Number(field(last, 'question')?.slice(1) ?? field(last, 'draft')?.split(' ')[1]);
      return { ...response, usage: usageOf(n) };
    };

    const provider = new InMemoryTracerProvider();
    const trace: TraceEntry[] = [];
    configure({
      lm,
      trackUsage: true,
      trace,
      callbacks: [openTelemetryCallback(api, { tracerProvider: provider, captureContent: true })],
    });

    const pipelines = new Map<number, Pipeline>();
    const program = (inputs: Record<string, unknown>) => {
      const pipeline = new Pipeline();
      pipelines.set(Number(String(inputs.question).slice(1)), pipeline);
      return pipeline.call(inputs as { question: string });
    };
    const devset = Array.from({ length: 50 }, (_, n) =>
      new Example({ question: `q${n + 1}`, answer: `answer ${n + 1}` }).withInputs('question'),
    );

    const { result, usage } = await trackUsage(() =>
      new Evaluate({
        devset,
        metric: (example, pred) => pred.answer === example.answer,
        numThreads: 50,
        logger: { info() {}, error() {} },
      }).call(program),
    );

    // Every item got its own answer and exactly its own usage.
    expect(result.score).toBe(100);
    for (const [example, prediction] of result.results) {
      const n = Number(String(example.question).slice(1));
      expect(prediction.lmUsage).toEqual({ 'test/scripted': { inputTokens: 2 * n, outputTokens: 2 } });
    }
    expect(usage).toEqual({ 'test/scripted': { inputTokens: (2 * (50 * 51)) / 2, outputTokens: 100 } });

    // Module histories hold exactly the calls made inside that module call.
    for (const [n, pipeline] of pipelines) {
      expect(pipeline.history.map((h) => h.outputs[0])).toEqual([
        `[[ ## draft ## ]]\ndraft ${n}`,
        `[[ ## answer ## ]]\nanswer ${n}`,
      ]);
      expect(pipeline.draft.history).toHaveLength(1);
      expect(pipeline.finish.history.map((h) => h.outputs[0])).toEqual([`[[ ## answer ## ]]\nanswer ${n}`]);
    }

    // Trace steps pair each predictor's inputs with its own prediction.
    expect(trace).toHaveLength(100);
    for (const step of trace) {
      if ('question' in step.inputs)
        expect(step.prediction.draft).toBe(`draft ${String(step.inputs.question).slice(1)}`);
      else expect(step.prediction.answer).toBe(`answer ${String(step.inputs.draft).slice(6)}`);
    }

    // Every LM span hangs under the Predict and Pipeline spans of the item whose question it carries.
    const chats = provider.spans.filter((s) => s.name.startsWith('chat'));
    expect(chats).toHaveLength(100);
    const evaluateSpan = provider.spans.find((s) => s.name === 'Evaluate.evaluate') as RecordedSpan;
    for (const chat of chats) {
      const predictSpan = provider.byId(chat.parentSpanId) as RecordedSpan;
      const pipelineSpan = provider.byId(predictSpan.parentSpanId) as RecordedSpan;
      expect(predictSpan.name).toBe('Predict.call');
      expect(pipelineSpan.name).toBe('Pipeline.call');
      expect(pipelineSpan.parentSpanId).toBe(evaluateSpan.spanId);
      const question = JSON.parse(String(pipelineSpan.attributes['dspy.module.inputs'])).question as string;
      const n = question.slice(1);
      const reply = JSON.parse(String(chat.attributes['gen_ai.output.messages']))[0].content as string;
      expect(reply).toMatch(new RegExp(`(draft|answer) ${n}$`));
      expect(chat.attributes['gen_ai.usage.input_tokens']).toBe(Number(n));
    }
  });
});
