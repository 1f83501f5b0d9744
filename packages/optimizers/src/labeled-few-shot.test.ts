import { ChainOfThought, Example, Predict } from '@dspy-ts/core';
import { describe, expect, it } from 'vitest';
import { qaExamples, TwoStep } from '../test/helpers.ts';
import { LabeledFewShot } from './labeled-few-shot.ts';

describe('LabeledFewShot', () => {
  it('takes the first k examples with sample: false, for every predictor', async () => {
    const trainset = qaExamples(5);
    const compiled = await new LabeledFewShot({ k: 3 }).compile(new TwoStep(), { trainset, sample: false });
    for (const predictor of compiled.predictors()) {
      expect(predictor.demos.map((d) => (d as Example).question)).toEqual(['q0', 'q1', 'q2']);
    }
    expect(compiled.compileReport.stats.lmCalls).toBe(0);
  });

  it('samples k distinct examples by default, reproducibly', async () => {
    const trainset = qaExamples(10);
    const one = await new LabeledFewShot({ k: 4 }).compile(new Predict('question -> answer'), { trainset });
    const two = await new LabeledFewShot({ k: 4 }).compile(new Predict('question -> answer'), { trainset });
    const questions = one.demos.map((d) => (d as Example).question);
    expect(new Set(questions).size).toBe(4);
    expect(two.demos.map((d) => (d as Example).question)).toEqual(questions);
  });

  it('returns the reset copy for an empty trainset and never changes the student', async () => {
    const student = new ChainOfThought('question -> answer');
    student.predict.demos = [new Example({ question: 'old', answer: 'demo' })];
    const before = JSON.stringify(student.dumpState());
    const compiled = await new LabeledFewShot().compile(student, { trainset: [] });
    expect(compiled).not.toBe(student);
    expect(compiled.predict.demos).toEqual([]);
    expect(JSON.stringify(student.dumpState())).toBe(before);
  });
});
