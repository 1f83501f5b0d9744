import { describe, expect, it } from 'vitest';
import { DummyLM } from '../testing/dummy-lm.ts';
import { ProgramOfThought, parseCode } from './program-of-thought.ts';

function userMessage(lm: DummyLM, call: number): string {
  const content = lm.requests[call]?.messages.at(-1)?.content;
  return typeof content === 'string' ? content : '';
}

describe('ProgramOfThought', () => {
  it('runs the generated JavaScript in the sandbox and answers from its SUBMITted result', async () => {
    const lm = new DummyLM([
      { reasoning: 'Multiply.', generated_code: '```javascript\nconst x = 6 * 7;\nSUBMIT({ answer: x });\n```' },
      { reasoning: 'The code computed 42.', answer: '42' },
    ]);
    const pot = new ProgramOfThought('question -> answer', { timeoutMs: 300 });
    const pred = await pot.call({ question: 'What is 6 times 7?' }, { lm });
    expect(pred.answer).toBe('42');
    expect(userMessage(lm, 1)).toContain(
      '[[ ## final_generated_code ## ]]\nconst x = 6 * 7;\nSUBMIT({ answer: x });\n\n[[ ## code_output ## ]]\n{"answer": 42}',
    );
  });

  it('shows each failure to the regenerate step and gives up after maxIters attempts', async () => {
    const lm = new DummyLM([
      { reasoning: 'Loop.', generated_code: 'while (true) {}' },
      {
        reasoning: 'Read a file.',
        generated_code: 'const fs = require("fs");\nSUBMIT(fs.readFileSync("/etc/passwd"))',
      },
      { reasoning: 'Exit.', generated_code: 'globalThis.process.exit(1)' },
    ]);
    const pot = new ProgramOfThought('question -> answer', { maxIters: 3, timeoutMs: 200 });
    await expect(pot.call({ question: 'q' }, { lm })).rejects.toThrow(
      /^Max hops reached\. Failed to run ProgramOfThought: TypeError: cannot read property 'exit' of undefined/,
    );
    expect(userMessage(lm, 1)).toContain(
      '[[ ## previous_code ## ]]\nwhile (true) {}\n\n[[ ## error ## ]]\nTimeout: the code ran longer than 200 ms and was stopped.',
    );
    expect(userMessage(lm, 2)).toContain("[[ ## error ## ]]\nReferenceError: 'require' is not defined");
  });

  it('recovers when a regenerated program works', async () => {
    const lm = new DummyLM([
      { reasoning: 'r', generated_code: 'const total = [1, 2, 3].reduce((a, b) => a + b, 0' },
      { reasoning: 'r', generated_code: 'const total = [1, 2, 3].reduce((a, b) => a + b, 0);' },
      { reasoning: 'r', answer: '6' },
    ]);
    const pot = new ProgramOfThought('question -> answer', { timeoutMs: 300 });
    const pred = await pot.call({ question: 'sum 1..3' }, { lm });
    expect(userMessage(lm, 1)).toContain('[[ ## error ## ]]\nSyntaxError:');
    expect(userMessage(lm, 2)).toContain('[[ ## code_output ## ]]\n6');
    expect(pred.answer).toBe('6');
  });

  it('adapts DSPy’s instructions to JavaScript and names its predictors', () => {
    const pot = new ProgramOfThought('question -> answer');
    expect(pot.codeGenerate.signature.instructions).toBe(
      [
        'You will be given `question` and you will respond with `generated_code`.',
        'Generating executable JavaScript code that programmatically computes the correct `generated_code`.',
        "After you're done with the computation and think you have the answer, make sure to provide your answer by calling the preloaded function `SUBMIT()`.",
        'You should structure your answer in an object, like {"field_a": answer_a, ...}, that evaluates to the correct value mapping for `answer`.',
        'The code runs in a sandboxed JavaScript interpreter with only the standard built-ins: there is no `require`, `import`, `process`, `fetch`, timers, network or filesystem.',
      ].join('\n'),
    );
    expect(pot.codeRegenerate.signature.instructions).toBe(
      'You are given `question`, `previous_code`, `error` due to an error in previous code.\n' +
        'Your task is to correct the error and provide the new `generated_code`.',
    );
    expect(pot.generateOutput.signature.toString()).toBe(
      'question, final_generated_code, code_output -> reasoning, answer',
    );
    expect(pot.namedPredictors().map(([name]) => name)).toEqual([
      'codeGenerate.predict',
      'codeRegenerate.predict',
      'generateOutput.predict',
    ]);
  });

  it('parses fenced code and makes a trailing assignment the result', () => {
    expect(parseCode('```js\nconst a = 1;\nconst b = a + 1\n```\nExplanation')).toEqual({
      code: 'const a = 1;\nconst b = a + 1\nb',
    });
    expect(parseCode('SUBMIT(1)\n---\nnotes')).toEqual({ code: 'SUBMIT(1)\n' });
    expect(parseCode('   ')).toEqual({ code: '   ', error: 'Error: Empty code after parsing.' });
  });
});
