import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Prediction } from '../primitives/prediction.ts';
import { ChainOfThought } from './chain-of-thought.ts';
import { inspectModules, Refine } from './refine.ts';
import { RolloutLM } from './rollout-lm.test-helper.ts';

afterEach(() => {
  vi.restoreAllMocks();
});

function user(request: { messages: { content: unknown }[] } | undefined): string {
  const content = request?.messages.at(-1)?.content;
  return typeof content === 'string' ? content : '';
}

describe('Refine', () => {
  it('asks OfferFeedback for advice after a failing attempt and passes it as the hint_ input', async () => {
    const replies = [
      '[[ ## reasoning ## ]]\nIt is the capital.\n\n[[ ## answer ## ]]\nThe capital is Brussels',
      '[[ ## discussion ## ]]\nToo long.\n\n[[ ## advice ## ]]\n{"predict": "Answer with one word."}',
      '[[ ## reasoning ## ]]\nOne word.\n\n[[ ## answer ## ]]\nBrussels',
    ];
    const lm = new RolloutLM((_request, index) => replies[index] ?? '');
    const qa = new ChainOfThought('question -> answer');
    qa.setLm(lm);
    const oneWord = (_args: unknown, pred: Prediction) => (String(pred.get('answer')).split(' ').length === 1 ? 1 : 0);
    const refine = new Refine(qa, { N: 3, rewardFn: oneWord, threshold: 1 });
    const pred = (await refine.call({ question: 'Capital of Belgium?' })) as Prediction;

    expect(pred.get('answer')).toBe('Brussels');
    expect(lm.log).toHaveLength(3);
    expect(lm.log.map((r) => r.rolloutId)).toEqual([0, undefined, 1]);
    const feedback = user(lm.log[1]);
    expect(feedback).toContain('[[ ## module_names ## ]]\n["predict"]');
    expect(feedback).toContain('[[ ## program_inputs ## ]]\n{\n  "question": "Capital of Belgium?"\n}');
    expect(feedback).toContain('[[ ## reward_value ## ]]\n0');
    expect(feedback).toContain('[[ ## reward_code ## ]]\n(_args, pred) =>');
    expect(lm.log[1]?.messages[0]?.content).toContain('assign blame to each module');
    const retry = user(lm.log[2]);
    expect(retry).toContain('[[ ## hint_ ## ]]\nAnswer with one word.');
    expect(lm.log[2]?.messages[0]?.content).toContain('`hint_` (str): A hint to the module from an earlier run');
    expect(user(lm.log[0])).not.toContain('hint_');
  });

  it('describes modules as DSPy’s inspect_modules does', () => {
    const text = inspectModules(new ChainOfThought('question -> answer'));
    expect(text).toBe(
      [
        '-'.repeat(80),
        'Module predict',
        '\tInput Fields:',
        '\t\t1. `question` (str):',
        '\tOutput Fields:',
        '\t\t1. `reasoning` (str): ',
        '\t\t2. `answer` (str):',
        '\tOriginal Instructions: ',
        '\t\tGiven the fields `question`, produce the fields `answer`.',
        '-'.repeat(80),
      ].join('\n'),
    );
  });
});
