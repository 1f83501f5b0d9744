import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { StateError } from '../errors.ts';
import { clearHistory } from '../lm/history.ts';
import { Example } from '../primitives/example.ts';
import type { Prediction } from '../primitives/prediction.ts';
import type { Callback } from '../settings/callbacks.ts';
import { configure, context } from '../settings/settings.ts';
import { Signature } from '../signature/signature.ts';
import { DummyLM } from '../testing/dummy-lm.ts';
import { ScriptedLM } from '../testing/scripted-lm.ts';
import { Module } from './module.ts';
import { Predict } from './predict.ts';

afterEach(() => {
  configure({ lm: undefined, trackUsage: undefined, callbacks: undefined });
  clearHistory();
  vi.restoreAllMocks();
});

/** Shaped like DSPy's ChainOfThought: one `predict` whose signature has `reasoning` prepended to the outputs. */
class ChainOfThoughtLike extends Module<Record<string, unknown>, Prediction> {
  predict: Predict;
  constructor(signature: string) {
    super();
    this.predict = new Predict(Signature.from(signature).prepend('reasoning', { kind: 'output' }));
  }
  override forward(inputs: Record<string, unknown>) {
    return this.predict.call(inputs);
  }
}

class Hop extends Module<Record<string, unknown>, Prediction> {
  predict1 = new Predict('question -> query');
  predict2 = new Predict('question, query -> answer');
  override async forward(inputs: Record<string, unknown>) {
    const { query } = (await this.predict1.call(inputs)).toDict() as { query: string };
    return this.predict2.call({ ...inputs, query });
  }
}

class Program extends Module<Record<string, unknown>, Prediction> {
  hop = new Hop();
  layers = [new Predict('a -> b'), new Predict('b -> c')];
  tools: Record<string, Predict> = { search: new Predict('q -> r') };
  cot = new ChainOfThoughtLike('question -> answer');
  settingsLike = { note: 'not a predictor', nested: [1, 2] };
  override forward(inputs: Record<string, unknown>) {
    return this.hop.call(inputs);
  }
}

describe('Module naming', () => {
  it("names predictors like DSPy's named_predictors", () => {
    expect(new Predict('a -> b').namedPredictors().map(([n]) => n)).toEqual(['self']);
    expect(new ChainOfThoughtLike('q -> a').namedPredictors().map(([n]) => n)).toEqual(['predict']);
    const program = new Program();
    expect(program.namedPredictors().map(([n]) => n)).toEqual([
      'hop.predict1',
      'hop.predict2',
      'layers[0]',
      'layers[1]',
      "tools['search']",
      'cot.predict',
    ]);
    expect(program.predictors()[2]).toBe(program.layers[0]);
  });

  it('lists each predictor once and skips compiled sub-modules', () => {
    const program = new Program();
    (program as unknown as { alias: Predict }).alias = program.layers[0] as Predict;
    program.cot.compiled = true;
    expect(program.namedPredictors().map(([n]) => n)).toEqual([
      'hop.predict1',
      'hop.predict2',
      'layers[0]',
      'layers[1]',
      "tools['search']",
    ]);
  });

  it('walks sub-modules breadth first', () => {
    const names = new Program().namedSubModules().map(([n]) => n);
    expect(names).toEqual([
      'self',
      'self.hop',
      'self.cot',
      'self.hop.predict1',
      'self.hop.predict2',
      'self.layers[0]',
      'self.layers[1]',
      'self.tools[search]',
      'self.cot.predict',
    ]);
    expect(new Program().namedSubModules(Hop).map(([n]) => n)).toEqual(['self.hop']);
  });
});

describe('Module copies and LMs', () => {
  it('deepCopy clones the structure but shares LMs', () => {
    const lm = new ScriptedLM(() => '');
    const program = new Program();
    program.setLm(lm);
    (program.layers[0] as Predict).demos = [Example.from({ a: '1', b: '2' }).withInputs('a')];
    const copy = program.deepCopy();
    expect(copy).toBeInstanceOf(Program);
    expect(copy.hop).not.toBe(program.hop);
    expect(copy.layers[0]).not.toBe(program.layers[0]);
    expect(copy.layers[0]?.lm).toBe(lm);
    expect(copy.getLm()).toBe(lm);
    expect(copy.layers[0]?.demos[0]).not.toBe(program.layers[0]?.demos[0]);
    expect((copy.layers[0] as Predict).demos[0]).toBeInstanceOf(Example);
    expect(((copy.layers[0] as Predict).demos[0] as Example).toDict()).toEqual({ a: '1', b: '2' });
    expect([...(((copy.layers[0] as Predict).demos[0] as Example).inputKeys ?? [])]).toEqual(['a']);
    (copy.layers[0] as Predict).demos.push({ a: 'x', b: 'y' });
    expect(program.layers[0]?.demos).toHaveLength(1);
    expect(copy.namedPredictors().map(([n]) => n)).toEqual(program.namedPredictors().map(([n]) => n));
  });

  it('resetCopy clears demos and LMs of the copy only', () => {
    const program = new ChainOfThoughtLike('q -> a');
    program.predict.demos = [{ q: '1', a: '2' }];
    program.predict.lm = new ScriptedLM(() => '');
    const reset = program.resetCopy();
    expect(reset.predict.demos).toEqual([]);
    expect(reset.predict.lm).toBeNull();
    expect(program.predict.demos).toHaveLength(1);
  });

  it('getLm refuses to pick between different LMs', () => {
    const program = new Program();
    expect(program.getLm()).toBeNull();
    program.setLm(new ScriptedLM(() => ''));
    (program.layers[1] as Predict).lm = new ScriptedLM(() => '');
    expect(() => program.getLm()).toThrow(/Multiple LMs/);
  });
});

describe('Module.call', () => {
  it('records LM calls in the history of every module on the call stack', async () => {
    const lm = new DummyLM([{ query: 'capital France' }, { answer: 'Paris' }]);
    const program = new Program();
    const prediction = await context({ lm }, () => program.call({ question: 'Capital of France?' }));
    expect(prediction.get('answer')).toBe('Paris');
    expect(program.history).toHaveLength(2);
    expect(program.hop.history).toHaveLength(2);
    expect(program.hop.predict1.history).toHaveLength(1);
    expect(program.hop.predict2.history[0]?.outputs[0]).toContain('Paris');
    expect(program.layers[0]?.history).toHaveLength(0);
  });

  it('fires module callbacks, global and per instance', async () => {
    const events: string[] = [];
    const recorder = (tag: string): Callback => ({
      onModuleStart: (_id, instance, inputs) =>
        events.push(`${tag} start ${instance.constructor.name} ${inputs.question}`),
      onModuleEnd: (_id, outputs, error) => events.push(`${tag} end ${outputs ? 'ok' : (error as Error).message}`),
    });
    configure({ callbacks: [recorder('global')] });
    const program = new ChainOfThoughtLike('question -> answer');
    program.callbacks.push(recorder('own'));
    await context({ lm: new DummyLM([{ reasoning: 'r', answer: 'a' }]) }, () => program.call({ question: 'Q' }));
    expect(events).toEqual([
      'global start ChainOfThoughtLike Q',
      'own start ChainOfThoughtLike Q',
      'global start Predict Q',
      'global end ok',
      'global end ok',
      'own end ok',
    ]);
  });

  it('attaches summed usage to the top-level prediction when trackUsage is on', async () => {
    const lm = new ScriptedLM(
      (r) => (String(r.messages[0]?.content).includes('`answer`') ? '[[ ## answer ## ]]\na' : '[[ ## query ## ]]\nq'),
      {
        modelId: 'm',
        usage: { inputTokens: 10, outputTokens: 3 },
      },
    );
    const program = new Program();
    const off = await context({ lm }, () => program.call({ question: 'Q' }));
    expect(off.lmUsage).toEqual({ m: { inputTokens: 10, outputTokens: 3 } });
    const on = await context({ lm, trackUsage: true }, () => program.call({ question: 'Q' }));
    expect(on.lmUsage).toEqual({ m: { inputTokens: 20, outputTokens: 6 } });
  });

  it('refuses to start when the signal is already aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    const lm = new DummyLM([{ answer: 'x' }]);
    await expect(new Predict('q -> answer').call({ q: '1' }, { lm, signal: controller.signal })).rejects.toMatchObject({
      code: 'aborted',
    });
    expect(lm.calls).toHaveLength(0);
  });
});

describe('Module state', () => {
  const validPredictState = (fields: number) => ({
    traces: [],
    train: [],
    demos: [{ q: '1' }],
    signature: {
      instructions: 'Do it.',
      fields: Array.from({ length: fields }, () => ({ prefix: 'P:', description: 'd' })),
    },
    lm: null,
  });

  it('round-trips through dumpState and loadState', () => {
    const program = new Program();
    (program.tools.search as Predict).demos = [{ q: 'x', r: 'y' }];
    program.cot.predict.signature = program.cot.predict.signature.withInstructions('Think hard.');
    const state = program.dumpState();
    expect(Object.keys(state)).toEqual(program.namedPredictors().map(([n]) => n));
    const fresh = new Program().loadState(JSON.parse(JSON.stringify(state)));
    expect(fresh.dumpState()).toEqual(state);
    expect(fresh.cot.predict.signature.instructions).toBe('Think hard.');
    expect(fresh.tools.search?.demos).toEqual([{ q: 'x', r: 'y' }]);
  });

  it.each([
    ['demos not a list', { predict: { ...validPredictState(3), demos: {} } }, 'predict.demos'],
    [
      'a demo that is not an object',
      { predict: { ...validPredictState(3), demos: [{}, {}, 'x'] } },
      'predict.demos[2]',
    ],
    [
      'wrong instruction type',
      { predict: { ...validPredictState(3), signature: { instructions: 5, fields: [] } } },
      'predict.signature.instructions',
    ],
    ['wrong field count', { predict: validPredictState(2) }, 'predict.signature.fields'],
    [
      'a bad prefix',
      {
        predict: {
          ...validPredictState(3),
          signature: { instructions: '', fields: [{ prefix: 1, description: '' }, {}, {}] },
        },
      },
      'predict.signature.fields[0].prefix',
    ],
    ['an unknown predictor', { predict: validPredictState(3), generate: validPredictState(3) }, 'generate'],
    ['a missing predictor', {}, 'predict'],
    ['lm of the wrong type', { predict: { ...validPredictState(3), lm: 'gpt-4' } }, 'predict.lm'],
  ])('rejects %s, naming the path', (_label, state, path) => {
    const program = new ChainOfThoughtLike('question -> answer');
    const error = (() => {
      try {
        program.loadState(state);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(StateError);
    expect((error as StateError).path).toBe(path);
    expect((error as StateError).message).toContain(path);
  });

  it('changes nothing when any part of the state is invalid', () => {
    const program = new Program();
    const state = program.dumpState() as Record<string, Record<string, unknown>>;
    (state['hop.predict1'] as Record<string, unknown>).demos = [{ question: 'new' }];
    (state['cot.predict'] as Record<string, unknown>).demos = 'broken';
    expect(() => program.loadState(state)).toThrow(StateError);
    expect(program.hop.predict1.demos).toEqual([]);
  });

  it('rejects a non-object state', () => {
    expect(() => new Program().loadState([])).toThrow(/Expected the program state to be an object/);
  });

  it('a bare Predict loads its own flat state and ignores metadata', () => {
    const qa = new Predict('question -> answer');
    qa.loadState({ ...validPredictState(2), metadata: { dependency_versions: { dspy: '3.3.1' } } });
    expect(qa.demos).toEqual([{ q: '1' }]);
    expect(qa.signature.instructions).toBe('Do it.');
    expect(() => qa.loadState({ ...validPredictState(2), demos: [1] })).toThrow(/^demos\[0\]: /);
  });
});

describe('Module.save and Module.load', () => {
  const tempDir = () => mkdtemp(join(tmpdir(), 'dspy-ts-module-'));

  it('saves atomically in DSPy layout and loads back', async () => {
    const dir = await tempDir();
    const file = join(dir, 'program.json');
    const program = new ChainOfThoughtLike('question -> answer');
    program.predict.demos = [Example.from({ question: 'q', reasoning: 'r', answer: 'a', augmented: true })];
    await program.save(file);
    expect(await readdir(dir)).toEqual(['program.json']);
    const text = await readFile(file, 'utf8');
    expect(text.endsWith('}\n')).toBe(true);
    expect(text).toContain('\n  "predict": {\n    "traces": [],\n    "train": [],\n    "demos": [\n      {\n');
    const saved = JSON.parse(text);
    expect(saved.metadata.dependency_versions).toEqual({ dspy: '3.3.1' });
    expect(typeof saved.metadata.dspy_ts_version).toBe('string');

    const loaded = await new ChainOfThoughtLike('question -> answer').load(file);
    expect(loaded.predict.demos).toEqual([{ question: 'q', reasoning: 'r', answer: 'a', augmented: true }]);
  });

  it('names the file when it is missing, not JSON, or not a .json path', async () => {
    const dir = await tempDir();
    const missing = join(dir, 'missing.json');
    await expect(new Predict('a -> b').load(missing)).rejects.toThrow(`"${missing}": the file does not exist`);
    const bad = join(dir, 'bad.json');
    await writeFile(bad, '{"predict": ');
    await expect(new Predict('a -> b').load(bad)).rejects.toThrow(`"${bad}": invalid JSON`);
    await expect(new Predict('a -> b').load(join(dir, 'x.pkl'))).rejects.toThrow(/pickle files are not supported/);
    await expect(new Predict('a -> b').save(join(dir, 'x.txt'))).rejects.toThrow(/ending in "\.json"/);
  });

  it('leaves the previous file intact when the state cannot be serialized', async () => {
    const dir = await tempDir();
    const file = join(dir, 'p.json');
    const qa = new Predict('a -> b');
    await qa.save(file);
    const before = await readFile(file, 'utf8');
    qa.demos = [{ a: 1n }];
    await expect(qa.save(file)).rejects.toThrow(/not JSON-serializable/);
    expect(await readFile(file, 'utf8')).toBe(before);
    expect(await readdir(dir)).toEqual(['p.json']);
  });

  it('warns when the file was saved by another DSPy version', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const dir = await tempDir();
    const file = join(dir, 'old.json');
    const state = {
      ...new Predict('a -> b').dumpState(),
      metadata: { dependency_versions: { python: '3.11', dspy: '2.6.0' } },
    };
    await writeFile(file, JSON.stringify(state));
    await new Predict('a -> b').load(file);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0]?.[0]).toMatch(/saved with `dspy==2\.6\.0`/);
  });
});
