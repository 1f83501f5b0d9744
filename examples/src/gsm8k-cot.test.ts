import { configure, Example, Prediction } from '@dspy-ts/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { gsm8kMetric, parseNumericAnswer, runGsm8k, scriptedGsm8kLM } from './gsm8k-cot.ts';

afterEach(() => configure({ lm: undefined }));

describe('GSM8K ChainOfThought example', () => {
  it('parses the last number of an answer', () => {
    expect(parseNumericAnswer('So she earned $1,250.50 in total')).toBe(1250.5);
    expect(parseNumericAnswer('624 pages')).toBe(624);
    expect(parseNumericAnswer('no idea')).toBeUndefined();
    expect(gsm8kMetric(new Example({ answer: '10' }), Prediction.from({ answer: '$10' }))).toBe(true);
    expect(gsm8kMetric(new Example({ answer: '3' }), Prediction.from({ answer: '2' }))).toBe(false);
  });

  it('evaluates the CoT program with reasoning before the answer', async () => {
    const info = vi.spyOn(console, 'info').mockImplementation(() => {});
    const lm = scriptedGsm8kLM();
    const result = await runGsm8k({ lm });
    expect(result.score).toBe(80);
    expect(result.results.map(([, , score]) => score)).toEqual([true, true, true, true, false]);
    expect(result.results[0]?.[1].reasoning).toContain('48 + 24 = 72');
    expect(lm.calls).toHaveLength(5);
    // ChainOfThought asks for the reasoning field first.
    const system = String(lm.calls[0]?.request.messages[0]?.content);
    expect(system.indexOf('`reasoning`')).toBeLessThan(system.indexOf('`answer`'));
    expect(info).toHaveBeenCalledWith('Average Metric: 4 / 5 (80.0%)');
    info.mockRestore();
  });
});
