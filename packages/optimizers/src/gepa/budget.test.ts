import { Predict } from '@dspy-ts/core';
import { ScriptedLM } from '@dspy-ts/core/testing';
import { describe, expect, it } from 'vitest';
import { qaExamples, TwoStep } from '../../test/helpers.ts';
import { autoBudget, minimumUsefulBudget, resolveBudget } from './budget.ts';
import { GEPA } from './gepa.ts';

const reflectionLM = new ScriptedLM(() => '```\nunused\n```');
const metric = () => 1;

describe('GEPA budget', () => {
  // N = int(max(4·P·log2(n), 1.5·n)); budget = V + 5n + 35N + ((N + 1) // 5 + 1 + [N < 5])·V
  it('matches hand-computed auto budgets for one predictor and 10 validation examples', () => {
    // light: n = 6, N = int(max(10.34, 9)) = 10 → 10 + 30 + 350 + (2 + 1)·10
    expect(resolveBudget({ auto: 'light' }, 1, 50, 10)).toBe(420);
    // medium: n = 12, N = int(max(14.34, 18)) = 18 → 10 + 60 + 630 + (3 + 1)·10
    expect(resolveBudget({ auto: 'medium' }, 1, 50, 10)).toBe(740);
    // heavy: n = 18, N = int(max(16.68, 27)) = 27 → 10 + 90 + 945 + (5 + 1)·10
    expect(resolveBudget({ auto: 'heavy' }, 1, 50, 10)).toBe(1105);
  });

  it('scales the trials with the number of predictors and sizes on the trainset without a valset', () => {
    // light, P = 2: N = int(max(20.68, 9)) = 20 → 10 + 30 + 700 + (4 + 1)·10
    expect(resolveBudget({ auto: 'light' }, 2, 50, 10)).toBe(790);
    // no valset: V = |trainset| = 20 → 20 + 30 + 350 + 3·20
    expect(resolveBudget({ auto: 'light' }, 1, 20, undefined)).toBe(460);
    const gepa = new GEPA({ metric, reflectionLM, auto: 'light' });
    expect(gepa.budget(new TwoStep(), qaExamples(50), qaExamples(10))).toBe(790);
  });

  it('adds the final full evaluation when there are fewer trials than the full-eval period', () => {
    // n = 2: N = int(max(4, 3)) = 4 < 5 → 10 + 10 + 140 + (1 + 1 + 1)·10
    expect(autoBudget(1, 2, 10)).toBe(190);
  });

  it('counts maxFullEvals over train + val (the trainset alone when no valset is given)', () => {
    expect(resolveBudget({ maxFullEvals: 2 }, 1, 4, 3)).toBe(14);
    expect(resolveBudget({ maxFullEvals: 2 }, 1, 4, undefined)).toBe(8);
    expect(resolveBudget({ maxMetricCalls: 123 }, 1, 4, 3)).toBe(123);
    expect(minimumUsefulBudget(10, 3)).toBe(16);
  });

  it('needs exactly one budget and a reflection LM', () => {
    expect(() => new GEPA({ metric, reflectionLM })).toThrow(/Exactly one of maxMetricCalls, maxFullEvals, auto/);
    expect(() => new GEPA({ metric, reflectionLM, auto: 'light', maxMetricCalls: 10 })).toThrow(/Exactly one/);
    expect(() => new GEPA({ metric, auto: 'light' } as never)).toThrow(/requires a reflection language model/);
    expect(() => new GEPA({ metric, reflectionLM, maxMetricCalls: 0 })).toThrow(/positive integer/);
  });

  it('rejects a budget too small for one proposal, naming the calls the smallest useful run needs', async () => {
    const gepa = new GEPA({ metric, reflectionLM, maxMetricCalls: 7 });
    // 2 validation examples + 2 × minibatch of 3 = 8.
    await expect(
      gepa.compile(new Predict('question -> answer'), { trainset: qaExamples(3), valset: qaExamples(2) }),
    ).rejects.toThrow(/budget of 7 metric calls is too small .* needs 8 metric calls/);
    // maxFullEvals: 1 × (3 + 3) = 6 < 3 + 6.
    const full = new GEPA({ metric, reflectionLM, maxFullEvals: 1 });
    await expect(
      full.compile(new Predict('question -> answer'), { trainset: qaExamples(3), valset: qaExamples(3) }),
    ).rejects.toThrow(/budget of 6 metric calls .* needs 9 metric calls/);
  });
});
