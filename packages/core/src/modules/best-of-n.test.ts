import { afterEach, describe, expect, it, vi } from 'vitest';
import { LMError } from '../errors.ts';
import type { Prediction } from '../primitives/prediction.ts';
import { context, type TraceEntry } from '../settings/settings.ts';
import { BestOfN } from './best-of-n.ts';
import { Predict } from './predict.ts';
import { RolloutLM } from './rollout-lm.test-helper.ts';

const oneWord = (_inputs: unknown, pred: Prediction) => (String(pred.get('answer')).split(' ').length === 1 ? 1 : 0);

function answering(...answers: string[]): RolloutLM {
  return new RolloutLM((_request, index) => `[[ ## answer ## ]]\n${answers[index] ?? 'no more'}`);
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('BestOfN', () => {
  it('samples fresh rollouts at temperature 1 and stops at the threshold', async () => {
    const lm = answering('It is Brussels', 'Brussels', 'Antwerp');
    const qa = new Predict('question -> answer');
    qa.lm = lm;
    const best = new BestOfN(qa, { N: 3, rewardFn: oneWord, threshold: 1 });
    const pred = (await best.call({ question: 'Capital of Belgium?' })) as Prediction;
    expect(pred.get('answer')).toBe('Brussels');
    expect(lm.log.map((r) => [r.rolloutId, r.temperature])).toEqual([
      [0, 1],
      [1, 1],
    ]);
    expect(qa.lm).toBe(lm);
    expect(best.namedPredictors().map(([name]) => name)).toEqual(['module']);
  });

  it('returns the best attempt when none reaches the threshold, starting from the LM’s rollout id', async () => {
    const lm = new RolloutLM((_r, index) => `[[ ## answer ## ]]\n${['a', 'b', 'c'][index]}`, {
      defaults: { rolloutId: 5 },
    });
    const rewards: Record<string, number> = { a: 0.2, b: 0.9, c: 0.5 };
    const qa = new Predict('question -> answer');
    const best = new BestOfN(qa, {
      N: 3,
      rewardFn: (_i, pred: Prediction) => rewards[String(pred.get('answer'))] ?? 0,
      threshold: 1,
    });
    const outer: TraceEntry[] = [];
    const pred = (await context({ lm, trace: outer }, () => best.call({ question: 'q' }))) as Prediction;
    expect(pred.get('answer')).toBe('b');
    expect(lm.log.map((r) => r.rolloutId)).toEqual([5, 6, 7]);
    // Only the best attempt's trace reaches the caller.
    expect(outer.map((entry) => entry.prediction.get('answer'))).toEqual(['b']);
  });

  it('follows DSPy’s failCount rule', async () => {
    vi.spyOn(console, 'warn').mockImplementation(() => {});
    const failing = () =>
      new RolloutLM(() => {
        throw new LMError('server', 'boom');
      });
    const run = async (N: number, failCount?: number) => {
      const lm = failing();
      const qa = new Predict('question -> answer');
      qa.lm = lm;
      const best = new BestOfN(qa, { N, rewardFn: oneWord, threshold: 1, ...(failCount ? { failCount } : {}) });
      const error = await best.call({ question: 'q' }).then(
        () => undefined,
        (e: unknown) => e,
      );
      return { attempts: lm.log.length, error };
    };
    // Default failCount = N = 3: failures at attempts 0 and 1 are tolerated, the one at attempt 2 re-throws.
    expect(await run(3)).toMatchObject({ attempts: 3, error: expect.any(LMError) });
    // failCount 1: attempt 0 is tolerated (count drops to 0), attempt 1 > 0 re-throws.
    expect(await run(4, 1)).toMatchObject({ attempts: 2, error: expect.any(LMError) });
    // N = 5, failCount 5: attempts 0-2 lower it to 2, then attempt 3 > 2 re-throws before all five run.
    expect((await run(5)).attempts).toBe(4);
  });
});
