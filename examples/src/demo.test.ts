import { Example, Signature } from '@dspy-ts/core';
import { describe, expect, it } from 'vitest';
import { CompactAdapter } from './smt-demo/compact-adapter.ts';
import {
  loadStories260K,
  nameMatch,
  resolveModelDir,
  runSmtDemo,
  STORY_QA,
  scriptedTeacherLM,
} from './smt-demo/pipeline.ts';
import { HELD_OUT_NAMES, makeSplits, TEMPLATE_NAMES } from './smt-demo/story-qa.ts';

describe('story-QA data', () => {
  it('generates deterministic splits whose test stories use held-out names only', () => {
    const a = makeSplits({ train: 40, dev: 8, test: 16, syntheticNames: 100 });
    const b = makeSplits({ train: 40, dev: 8, test: 16, syntheticNames: 100 });
    expect(a.train.map((e) => e.story)).toEqual(b.train.map((e) => e.story));
    expect(new Set(a.train.map((e) => e.template))).toEqual(new Set(TEMPLATE_NAMES));

    const words = (examples: Example[]) =>
      new Set(examples.flatMap((e) => String(e.story).match(/[A-Z][a-z]+/g) ?? []));
    const trainWords = words([...a.train, ...a.dev]);
    for (const name of HELD_OUT_NAMES) expect(trainWords.has(name), name).toBe(false);
    for (const example of a.test) {
      expect(HELD_OUT_NAMES).toContain(example.answer);
      expect(String(example.story)).toContain(String(example.answer));
    }
    const trainKeys = new Set(a.train.map((e) => `${e.story}|${e.question}`));
    expect(a.dev.some((e) => trainKeys.has(`${e.story}|${e.question}`))).toBe(false);
  });
});

describe('CompactAdapter', () => {
  const adapter = new CompactAdapter();
  const inputs = { story: 'Tim had a ball. Tim gave the ball to Sue.', question: 'Who has the ball now?' };

  it('formats one short user turn and parses the answer line back', () => {
    expect(adapter.format(STORY_QA, [], inputs)).toEqual([
      { role: 'user', content: `Story: ${inputs.story}\nQuestion: Who has the ball now?` },
    ]);
    const record = adapter.formatFinetuneData(STORY_QA, [], inputs, { answer: 'Sue' });
    expect(record.messages.at(-1)).toEqual({ role: 'assistant', content: 'Answer: Sue\n' });
    expect(adapter.parse(STORY_QA, 'Answer: Sue\n')).toEqual({ answer: 'Sue' });
    expect(adapter.parse(STORY_QA, 'Sue')).toEqual({ answer: 'Sue' });
    const two = Signature.parse('story -> answer, reason');
    expect(() => adapter.parse(two, 'Answer: Sue')).toThrow();
  });

  it('lets the scripted teacher answer the training questions only', async () => {
    const train = [new Example({ ...inputs, answer: 'Sue' }).withInputs('story', 'question')];
    const lm = scriptedTeacherLM(train);
    const ask = async (story: string) =>
      (await lm.generate({ messages: [{ role: 'user', content: `Story: ${story}\nQuestion: ${inputs.question}` }] }))
        .choices[0]?.text;
    expect(await ask(inputs.story)).toBe('Answer: Sue\n');
    expect(await ask('Ann had a cup. Ann gave the cup to Bo.')).toBe("Answer: I don't know\n");
  });
});

describe('the SMT demo pipeline (reduced)', () => {
  it('explains where to download a missing model', async () => {
    await expect(loadStories260K('/nonexistent/models')).rejects.toThrow(/karpathy\/tinyllamas/);
    expect(resolveModelDir({ DSPY_TS_MODELS_DIR: '/x/models' })).toBe('/x/models/stories260K');
  });

  it('evaluates, compiles with BootstrapFinetune + SMTFinetuner, evaluates again and reports', async () => {
    const steps: number[] = [];
    const result = await runSmtDemo({
      splits: { train: 32, dev: 4, test: 6, syntheticNames: 40 },
      training: {
        steps: 8,
        batchSize: 4,
        lr: 1e-2,
        smt: {
          warmup: 'full-ft',
          warmupSteps: 3,
          groups: [
            { matrices: ['wq', 'wk', 'wv', 'wo'], fraction: 0.1 },
            { matrices: ['w1', 'w2', 'w3'], fraction: 0.05 },
          ],
        },
      },
      onTrainingProgress: (e) => steps.push(e.completed),
    });

    expect(result.promptTokens.compact).toBeLessThan(result.promptTokens.context / 4);
    expect(result.promptTokens.chatAdapter).toBeGreaterThan(4 * result.promptTokens.compact);
    expect(result.sizes).toEqual({ train: 32, dev: 4, test: 6 });
    for (const accuracy of [result.before.dev, result.before.test, result.after.dev, result.after.test]) {
      expect(accuracy.score).toBeGreaterThanOrEqual(0);
      expect(accuracy.score).toBeLessThanOrEqual(100);
      expect(accuracy.samples.length).toBeGreaterThan(0);
    }
    expect(steps).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);

    // The compiled program runs on the fine-tuned local LM, which carries the training report.
    expect(result.program.compiled).toBe(true);
    expect(result.program.answer.lm).toBe(result.lm);
    expect(result.lm.modelId).toBe('local/stories260K+smt');
    const { report } = result.lm;
    expect(report.records).toBe(32); // the scripted teacher answers every training question correctly
    expect(report.steps).toBe(8);
    expect(report.smt?.warmupSteps).toBe(3);
    expect(Object.keys(report.smt?.blocksPerMatrix ?? {}).length).toBeGreaterThan(0);
    expect(report.smt?.selectedBlocks).toBeGreaterThan(0);
    expect(report.memory.warmup).toBeDefined();

    // Memory accounting: SMT keeps gradients and Adam state only for its blocks.
    const { smt, full } = result.memory;
    expect(smt.weights).toBe(full.weights);
    // Adam moments per selected 8×8 block (ragged MLP edge blocks are stored padded to full blocks).
    expect(smt.optimizerState).toBe((report.smt?.selectedBlocks ?? 0) * 64 * 8);
    expect(smt.optimizerState).toBeGreaterThanOrEqual(report.trainableParameters * 8);
    expect(full.optimizerState).toBe(260_032 * 8);
    expect(smt.total).toBeLessThan(full.total);

    // The compiled program answers through the compact format.
    const prediction = await result.program.call({
      story: 'Ted had a cup. Ted gave the cup to Sam.',
      question: 'Who has the cup now?',
    });
    expect(typeof prediction.answer).toBe('string');
    expect(typeof nameMatch(new Example({ answer: 'Sam' }), prediction)).toBe('boolean');
  }, 60_000);
});
