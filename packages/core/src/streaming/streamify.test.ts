import { afterEach, describe, expect, it } from 'vitest';
import { JSONAdapter } from '../adapters/json-adapter.ts';
import { XMLAdapter } from '../adapters/xml-adapter.ts';
import { Module, type ModuleCallOptions } from '../modules/module.ts';
import { Predict } from '../modules/predict.ts';
import { Prediction } from '../primitives/prediction.ts';
import { withCallbacks } from '../settings/callbacks.ts';
import { configure, context } from '../settings/settings.ts';
import { ScriptedLM } from '../testing/scripted-lm.ts';
import { StreamingScriptedLM } from '../testing/streaming-lm.ts';
import { StatusMessage, StreamListener, StreamResponse, streamify } from './streamify.ts';

afterEach(() => configure({ lm: undefined, adapter: undefined }));

async function drain<T>(stream: AsyncIterable<T>): Promise<T[]> {
  const events: T[] = [];
  for await (const event of stream) events.push(event);
  return events;
}

function fieldText(events: readonly unknown[], predictName: string, field: string): string {
  return events
    .filter(
      (e): e is StreamResponse => e instanceof StreamResponse && e.predictName === predictName && e.field === field,
    )
    .map((e) => e.chunk)
    .join('');
}

function lastQuestion(messages: readonly { content: unknown }[]): string {
  const text = String(messages.at(-1)?.content ?? '');
  return /\[\[ ## question ## \]\]\n(.*)/.exec(text)?.[1] ?? '';
}

describe('streamify', () => {
  it('streams every output field of a predictor in pieces, then yields the prediction', async () => {
    const lm = new StreamingScriptedLM(
      () => '[[ ## reasoning ## ]]\nParis is the capital.\n\n[[ ## answer ## ]]\nParis\n\n[[ ## completed ## ]]',
      { chunks: 4 },
    );
    configure({ lm });
    const events = await drain(streamify(new Predict('question -> reasoning, answer'))({ question: 'Capital?' }));

    const chunks = events.filter((e) => e instanceof StreamResponse);
    expect(chunks.length).toBeGreaterThan(4);
    expect(fieldText(events, 'self', 'reasoning')).toBe('Paris is the capital.');
    expect(fieldText(events, 'self', 'answer')).toBe('Paris');
    expect(chunks.filter((c) => c.isLastChunk).map((c) => c.field)).toEqual(['reasoning', 'answer']);
    const final = events.at(-1);
    expect(final).toBeInstanceOf(Prediction);
    expect((final as Prediction).answer).toBe('Paris');
  });

  it('emits the whole reply as one chunk for an LM without stream(), and nothing for cache hits', async () => {
    configure({ lm: new ScriptedLM(() => '[[ ## answer ## ]]\n42') });
    const program = streamify(new Predict('question -> answer'));
    const events = await drain(program({ question: 'q' }));
    expect(events.filter((e) => e instanceof StreamResponse)).toEqual([
      new StreamResponse('self', 'answer', '42', true),
    ]);

    configure({ lm: new StreamingScriptedLM(() => '[[ ## answer ## ]]\n42', { cacheHit: true }) });
    const cached = await drain(program({ question: 'q' }));
    expect(cached).toHaveLength(1);
    expect((cached[0] as Prediction).answer).toBe('42');

    configure({ lm: new ScriptedLM(() => '[[ ## answer ## ]]\n42', { cacheHit: true }) });
    expect(await drain(program({ question: 'q' }))).toHaveLength(1);
  });

  it('names chunks by predictor and reports module starts and ends in order', async () => {
    class TwoStep extends Module<{ question: string }, Prediction> {
      draft = new Predict('question -> draft');
      polish = new Predict('draft -> answer');
      async forward({ question }: { question: string }, options?: ModuleCallOptions) {
        const { draft } = await this.draft.call({ question }, options);
        return this.polish.call({ draft: draft as string }, options);
      }
    }
    configure({
      lm: new StreamingScriptedLM((request) =>
        String(request.messages.at(-1)?.content).includes('[[ ## draft ## ]]\nrough')
          ? '[[ ## answer ## ]]\npolished'
          : '[[ ## draft ## ]]\nrough',
      ),
    });
    const events = await drain(streamify(new TwoStep(), { includeFinalPrediction: false })({ question: 'q' }));
    const summary = events.map((e) =>
      e instanceof StatusMessage
        ? e.message
        : e instanceof StreamResponse && e.isLastChunk
          ? `${e.predictName}.${e.field}`
          : null,
    );
    expect(summary.filter(Boolean)).toEqual([
      'Calling module TwoStep...',
      'draft.draft',
      'polish.answer',
      'Module TwoStep finished.',
    ]);
    expect(fieldText(events, 'draft', 'draft')).toBe('rough');
    expect(events.some((e) => e instanceof Prediction)).toBe(false);
  });

  it('keeps two concurrent streams apart', async () => {
    const lm = new StreamingScriptedLM(
      (request) => {
        const q = lastQuestion(request.messages);
        return `[[ ## answer ## ]]\nanswer to ${q}, which is a long enough text to need many pieces`;
      },
      { chunks: 3, delayMs: 1 },
    );
    configure({ lm });
    const program = streamify(new Predict('question -> answer'));
    const [a, b] = await Promise.all([drain(program({ question: 'alpha' })), drain(program({ question: 'beta' }))]);
    expect(fieldText(a, 'self', 'answer')).toBe('answer to alpha, which is a long enough text to need many pieces');
    expect(fieldText(b, 'self', 'answer')).toBe('answer to beta, which is a long enough text to need many pieces');
    expect((a.at(-1) as Prediction).answer).toContain('alpha');
    expect((b.at(-1) as Prediction).answer).toContain('beta');
  });

  it('streams only listened fields; a listener stops after one value unless allowReuse', async () => {
    class Loop extends Module<{ question: string }, Prediction> {
      step = new Predict('question -> thought, answer');
      async forward(inputs: { question: string }) {
        await this.step.call(inputs);
        return this.step.call(inputs);
      }
    }
    let call = 0;
    configure({ lm: new StreamingScriptedLM(() => `[[ ## thought ## ]]\nt${call}\n[[ ## answer ## ]]\na${call++}`) });
    const once = await drain(
      streamify(new Loop(), { streamListeners: [new StreamListener({ signatureFieldName: 'answer' })] })({
        question: 'q',
      }),
    );
    expect(once.filter((e) => e instanceof StreamResponse).map((e) => e.chunk)).toEqual(['a0']);

    call = 0;
    const program = new Loop();
    const reused = await drain(
      streamify(program, {
        streamListeners: [
          new StreamListener({ signatureFieldName: 'thought', predict: program.step, allowReuse: true }),
        ],
      })({ question: 'q' }),
    );
    const thoughts = reused.filter((e) => e instanceof StreamResponse);
    expect(new Set(thoughts.map((e) => e.field))).toEqual(new Set(['thought']));
    expect(thoughts.map((e) => (e.isLastChunk ? `${e.chunk}|` : e.chunk)).join('')).toBe('t0|t1|');
  });

  it('detects field boundaries of the JSON and XML adapters', async () => {
    const json = new StreamingScriptedLM(() => '{"reasoning": "because", "answer": "yes"}', { chunks: 2 });
    const events = await context({ adapter: new JSONAdapter(), lm: json }, () =>
      drain(streamify(new Predict('question -> reasoning, answer'))({ question: 'q' })),
    );
    expect(fieldText(events, 'self', 'reasoning')).toBe('because');
    expect(fieldText(events, 'self', 'answer')).toBe('yes');

    const xml = new StreamingScriptedLM(() => '<answer>\nyes &amp; no\n</answer>', { chunks: 2 });
    const xmlEvents = await context({ adapter: new XMLAdapter(), lm: xml }, () =>
      drain(streamify(new Predict('question -> answer'))({ question: 'q' })),
    );
    expect(fieldText(xmlEvents, 'self', 'answer')).toBe('yes & no');
    expect((xmlEvents.at(-1) as Prediction).answer).toBe('yes & no');
  });

  it('reports tool calls and uses a custom status provider', async () => {
    const search = { name: 'search' };
    const program = async (inputs: { q: string }) => {
      const hits = await withCallbacks('tool', search, { query: inputs.q }, async () => ['hit']);
      return Prediction.from({ hits });
    };
    const events = await drain(
      streamify(program, { statusMessageProvider: { toolEndStatusMessage: (out) => `got ${String(out)}` } })({
        q: 'x',
      }),
    );
    expect(events.filter((e) => e instanceof StatusMessage).map((e) => e.message)).toEqual([
      'Calling tool search...',
      'got hit',
    ]);
  });

  it('aborts the program when the consumer stops reading, and raises program errors', async () => {
    let seen: AbortSignal | undefined;
    const program = async (_inputs: Record<string, never>, options: ModuleCallOptions) => {
      seen = options.signal;
      await withCallbacks('tool', { name: 't' }, {}, async () => undefined);
      await new Promise((resolve) => setTimeout(resolve, 20));
      return 'done';
    };
    for await (const event of streamify(program)({})) {
      expect(event).toBeInstanceOf(StatusMessage);
      break;
    }
    expect(seen?.aborted).toBe(true);

    const failing = streamify(async () => {
      throw new Error('boom');
    });
    await expect(drain(failing({}))).rejects.toThrow('boom');
  });
});
