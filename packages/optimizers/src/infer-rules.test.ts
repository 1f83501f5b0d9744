import { configure, Predict } from '@dspy-ts/core';
import { afterEach, describe, expect, it } from 'vitest';
import { CountingLM, exactAnswer, qaExamples, text } from '../test/helpers.ts';
import { InferRules } from './infer-rules.ts';

afterEach(() => configure({ lm: undefined }));

describe('InferRules', () => {
  it('appends induced rules to the instructions and keeps the best rule set', async () => {
    let rulesCalls = 0;
    const lm = new CountingLM((request) => {
      const last = text(request.messages.at(-1));
      if (last.includes('examples_text')) {
        rulesCalls++;
        return `[[ ## reasoning ## ]]\nlook\n\n[[ ## natural_language_rules ## ]]\n${rulesCalls === 2 ? 'Replace q with a.' : 'Say no.'}`;
      }
      const question = /\[\[ ## question ## \]\]\n(\w+)/.exec(last)?.[1] ?? '';
      const good = text(request.messages[0]).includes('Replace q with a.');
      return `[[ ## answer ## ]]\n${good ? question.replace('q', 'a') : 'no'}`;
    });
    configure({ lm });
    const compiled = await new InferRules({ metric: exactAnswer, numCandidates: 3, maxLabeledDemos: 0 }).compile(
      new Predict('question -> answer'),
      { trainset: qaExamples(4) },
    );
    expect(compiled.signature.instructions).toBe(
      'Given the fields `question`, produce the fields `answer`.\n\n' +
        'Please adhere to the following rules when making your prediction:\nReplace q with a.',
    );
    expect(compiled.compileReport.score).toBe(100);
    expect(lm.derived.length).toBe(3);
    expect(lm.derived.every((d) => d.temperature === 1 && typeof d.rolloutId === 'number')).toBe(true);
    const rulesPrompt = lm.requests.find((r) => text(r.messages.at(-1)).includes('examples_text'));
    expect(text(rulesPrompt?.messages.at(-1))).toContain(
      'Input Fields:\nquestion: q0\n\n=========\nOutput Fields:\nanswer: a0',
    );
  });
});
