import { configure, majority, Predict, type Prediction } from '@dspy-ts/core';
import { DummyLM } from '@dspy-ts/core/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { Ensemble } from './ensemble.ts';
import { OptimizerError } from './optimizer-error.ts';

afterEach(() => configure({ lm: undefined }));

const programs = () => [1, 2, 3].map(() => new Predict('question -> answer'));

describe('Ensemble', () => {
  it('returns every output without reduceFn', async () => {
    configure({ lm: new DummyLM([{ answer: 'a' }, { answer: 'b' }, { answer: 'a' }]) });
    const outputs = (await new Ensemble().compile(programs()).call({ question: 'q' })) as Prediction[];
    expect(outputs.map((p) => p.answer)).toEqual(['a', 'b', 'a']);
  });

  it('reduces the outputs with reduceFn', async () => {
    configure({ lm: new DummyLM([{ answer: 'blue' }, { answer: 'red' }, { answer: 'red' }]) });
    const ensemble = new Ensemble<Prediction, Prediction>({ reduceFn: (outputs) => majority(outputs) });
    const result = await ensemble.compile(programs()).call({ question: 'q' });
    expect(result.answer).toBe('red');
  });

  it('calls a random subset of `size` programs', async () => {
    const lm = new DummyLM([{ answer: 'x' }, { answer: 'y' }, { answer: 'z' }]);
    configure({ lm });
    const program = new Ensemble({ size: 2 }).compile(programs());
    const outputs = (await program.call({ question: 'q' })) as Prediction[];
    expect(outputs).toHaveLength(2);
    expect(lm.calls).toHaveLength(2);
    expect(program.namedPredictors().map(([name]) => name)).toEqual(['programs[0]', 'programs[1]', 'programs[2]']);
    expect(() => new Ensemble({ size: 4 }).compile(programs())).toThrow(OptimizerError);
  });

  it('rejects deterministic ensembles with DSPy message', () => {
    expect(() => new Ensemble({ deterministic: true })).toThrow(
      'TODO: Implement example hashing for deterministic ensemble.',
    );
  });
});
