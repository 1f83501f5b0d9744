import { afterEach, describe, expect, it, vi } from 'vitest';
import { ConfigurationError, DspyError } from '../errors.ts';
import { clearHistory, inspectHistory } from '../lm/history.ts';
import { Example } from '../primitives/example.ts';
import { configure, context, type TraceEntry } from '../settings/settings.ts';
import { Signature } from '../signature/signature.ts';
import { CapturingLM } from '../testing/capturing-lm.ts';
import { DummyLM } from '../testing/dummy-lm.ts';
import { ScriptedLM } from '../testing/scripted-lm.ts';
import { Predict } from './predict.ts';

afterEach(() => {
  configure({ lm: undefined, trace: undefined, trackUsage: undefined });
  clearHistory();
  vi.restoreAllMocks();
});

const QA_SYSTEM =
  'Your input fields are:\n1. `question` (str):\nYour output fields are:\n1. `answer` (str):\nAll interactions will be ' +
  'structured in the following way, with the appropriate values filled in.\n\n[[ ## question ## ]]\n{question}\n\n' +
  '[[ ## answer ## ]]\n{answer}\n\n[[ ## completed ## ]]\nIn adhering to this structure, your objective is: \n' +
  '        Answer the question.';
const QA_USER =
  '[[ ## question ## ]]\nWhat is the capital of France?\n\nRespond with the corresponding output fields, starting ' +
  'with the field `[[ ## answer ## ]]`, and then ending with the marker for `[[ ## completed ## ]]`.';

describe('Predict', () => {
  it('runs end to end against DummyLM', async () => {
    const lm = new DummyLM([{ answer: 'Paris' }]);
    const qa = new Predict('question -> answer');
    const prediction = await qa.call({ question: 'What is the capital of France?' }, { lm });
    expect(prediction.get('answer')).toBe('Paris');
    expect(prediction.completions).toHaveLength(1);
    expect(prediction.lmUsage).toEqual({ dummy: { inputTokens: 0, outputTokens: 0 } });
    expect(lm.calls).toHaveLength(1);
  });

  it("sends DSPy's exact messages, which inspectHistory shows verbatim", async () => {
    const lm = new CapturingLM(['[[ ## answer ## ]]\nParis\n\n[[ ## completed ## ]]']);
    const qa = new Predict(Signature.parse('question -> answer', 'Answer the question.'));
    const prediction = await qa.call({ question: 'What is the capital of France?' }, { lm });
    expect(prediction.get('answer')).toBe('Paris');
    expect(lm.requests[0]?.messages).toEqual([
      { role: 'system', content: QA_SYSTEM },
      { role: 'user', content: QA_USER },
    ]);
    const shown = inspectHistory(1, { write: false });
    expect(shown).toContain(`System message:\n\n${QA_SYSTEM}\n\n\n`);
    expect(shown).toContain(`User message:\n\n${QA_USER}\n\n\n`);
    expect(shown).toContain('Response:\n\n[[ ## answer ## ]]\nParis\n\n[[ ## completed ## ]]\n\n');
    expect(qa.inspectHistory(1, { write: false })).toBe(shown);
  });

  it('applies the n > 1 temperature rule to the request it sends', async () => {
    const reply = '[[ ## answer ## ]]\nx';
    const send = async (config: Record<string, number>, defaults?: Record<string, number>) => {
      const lm = new CapturingLM([reply], { defaults });
      await new Predict('question -> answer', config).call({ question: 'q' }, { lm });
      return lm.lastRequest;
    };
    expect((await send({ n: 3 }))?.temperature).toBe(0.7);
    expect((await send({ n: 3, temperature: 0.1 }))?.temperature).toBe(0.7);
    expect((await send({ n: 3, temperature: 0.5 }))?.temperature).toBe(0.5);
    expect((await send({ n: 2 }, { temperature: 1 }))?.temperature).toBe(1);
    expect((await send({}, { n: 2 }))?.temperature).toBe(0.7);
    expect((await send({ temperature: 0 }))?.temperature).toBe(0);
    expect((await send({}))?.temperature).toBeUndefined();
  });

  it('returns one completion per choice when n > 1', async () => {
    const lm = new DummyLM([{ answer: 'a' }, { answer: 'b' }, { answer: 'c' }]);
    const prediction = await new Predict('question -> answer', { n: 3 }).call({ question: 'q' }, { lm });
    expect(prediction.get('answer')).toBe('a');
    expect(prediction.completions).toHaveLength(3);
    expect(lm.lastRequest?.n).toBe(3);
  });

  it('resolves the LM per call, then the predictor, then the settings', async () => {
    const global = new DummyLM([{ answer: 'global' }, { answer: 'global' }], {});
    const scoped = new DummyLM([{ answer: 'scoped' }]);
    const own = new DummyLM([{ answer: 'own' }]);
    const perCall = new DummyLM([{ answer: 'per call' }]);
    configure({ lm: global });
    const qa = new Predict('question -> answer');
    expect((await qa.call({ question: 'q' })).get('answer')).toBe('global');
    expect((await context({ lm: scoped }, () => qa.call({ question: 'q' }))).get('answer')).toBe('scoped');
    qa.lm = own;
    expect((await context({ lm: scoped }, () => qa.call({ question: 'q' }))).get('answer')).toBe('own');
    expect((await qa.call({ question: 'q' }, { lm: perCall })).get('answer')).toBe('per call');
    expect(global.calls).toHaveLength(1);
  });

  it('fails with a configuration error when no LM is available', async () => {
    const qa = new Predict('question -> answer');
    const error = await qa.call({ question: 'q' }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigurationError);
    expect(DspyError.isInstance(error) && error.code).toBe('configuration');
    expect((error as Error).message).toMatch(
      /^No LM is loaded\. Please configure the LM using `configure\(\{ lm \}\)`/,
    );
    await expect(qa.call({ question: 'q' }, { lm: 'openai/gpt-4o' as never })).rejects.toThrow(
      /the string "openai\/gpt-4o"/,
    );
  });

  it('rejects inputs that are not an object of named fields', async () => {
    const qa = new Predict('question -> answer');
    await expect(qa.call('What?' as never, { lm: new DummyLM([]) })).rejects.toThrow(
      /must be called with an object of named inputs .*'question'/,
    );
  });

  it('fills missing inputs from defaults and warns about the rest', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const lm = new CapturingLM(['[[ ## answer ## ]]\nx', '[[ ## answer ## ]]\nx']);
    const qa = new Predict('question, context -> answer');
    await qa.call({ question: 'q' }, { lm });
    expect(warn).toHaveBeenCalledWith(
      'Not all input fields were provided to module. Present: [question]. Missing: [context].',
    );
  });

  it('warns on input type mismatches unless disabled', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const lm = new CapturingLM(['[[ ## answer ## ]]\nx', '[[ ## answer ## ]]\nx']);
    const qa = new Predict('count: int -> answer');
    await qa.call({ count: 'many' }, { lm });
    expect(warn.mock.calls[0]?.[0]).toMatch(/^Type mismatch for input field 'count': expected int/);
    warn.mockClear();
    await context({ warnOnTypeMismatch: false }, () => qa.call({ count: 'many' }, { lm }));
    expect(warn).not.toHaveBeenCalled();
  });

  it('sends demos, per-call config and the abort signal', async () => {
    const lm = new CapturingLM(['[[ ## answer ## ]]\nx']);
    const qa = new Predict('question -> answer', { maxTokens: 50 });
    qa.demos = [Example.from({ question: 'Demo Q', answer: 'Demo A' }).withInputs('question')];
    const controller = new AbortController();
    await qa.call({ question: 'Real Q' }, { lm, config: { topP: 0.5 }, signal: controller.signal });
    const request = lm.lastRequest;
    expect(request?.maxTokens).toBe(50);
    expect(request?.topP).toBe(0.5);
    expect(request?.signal).toBe(controller.signal);
    expect(request?.messages.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'user']);
    expect(request?.messages[1]?.content).toContain('Demo Q');
  });

  it('appends to the active trace, bounded by maxTraceSize', async () => {
    const lm = new DummyLM([{ answer: '1' }, { answer: '2' }, { answer: '3' }]);
    const qa = new Predict('question -> answer');
    const trace: TraceEntry[] = [];
    await context({ trace, maxTraceSize: 2 }, async () => {
      for (const q of ['a', 'b', 'c']) await qa.call({ question: q }, { lm });
    });
    expect(trace.map((t) => t.inputs.question)).toEqual(['b', 'c']);
    expect(trace[1]?.predictor).toBe(qa);
    expect(trace[1]?.prediction.get('answer')).toBe('3');
    await context({ trace: null }, () => qa.call({ question: 'd' }, { lm }));
    expect(trace).toHaveLength(2);
  });

  it('dumps state in DSPy layout and resets', () => {
    const qa = new Predict(Signature.parse('question -> answer', 'Answer.'));
    qa.demos = [
      Example.from({ question: 'q1', answer: 'a1', augmented: true }),
      { question: 'q2', answer: 'a2', dspy_split: 'train' },
    ];
    expect(qa.dumpState()).toEqual({
      traces: [],
      train: [],
      demos: [
        { question: 'q1', answer: 'a1', augmented: true },
        { question: 'q2', answer: 'a2', dspy_split: 'train' },
      ],
      signature: {
        instructions: 'Answer.',
        fields: [
          { prefix: 'Question:', description: '${question}' },
          { prefix: 'Answer:', description: '${answer}' },
        ],
      },
      lm: null,
    });
    qa.lm = new ScriptedLM(() => '', { modelId: 'm' });
    expect(qa.dumpState().lm).toEqual({ model: 'm' });
    qa.reset();
    expect(qa.lm).toBeNull();
    expect(qa.demos).toEqual([]);
  });
});
