import { describe, expect, it } from 'vitest';
import { DspyError } from '../errors.ts';
import { Signature } from '../signature/signature.ts';
import { Completions } from './completions.ts';
import { Example } from './example.ts';
import { Prediction } from './prediction.ts';

describe('Prediction', () => {
  it('takes the first completion and keeps all of them', () => {
    const sig = Signature.parse('question -> reasoning, answer');
    const pred = Prediction.fromCompletions(
      [
        { reasoning: 'r1', answer: 'Paris' },
        { reasoning: 'r2', answer: 'Lyon' },
      ],
      sig,
    );
    expect(pred).toBeInstanceOf(Prediction);
    expect(pred).toBeInstanceOf(Example);
    expect(pred.answer).toBe('Paris');
    expect(pred.toDict()).toEqual({ reasoning: 'r1', answer: 'Paris' });
    const completions = pred.completions!;
    expect(completions.length).toBe(2);
    expect(completions.signature).toBe(sig);
    expect(completions.answer).toEqual(['Paris', 'Lyon']);
    expect(completions.get('reasoning')).toEqual(['r1', 'r2']);
    expect(completions.at(1).answer).toBe('Lyon');
    expect(completions.at(1)).toBeInstanceOf(Prediction);
    expect([...completions].map((p) => p.answer)).toEqual(['Paris', 'Lyon']);
    expect(completions.keys()).toEqual(['reasoning', 'answer']);
  });

  it('accepts per-field lists and checks their lengths', () => {
    const pred = Prediction.fromCompletions({ answer: ['a', 'b', 'c'] });
    expect(pred.answer).toBe('a');
    expect(pred.completions?.length).toBe(3);
    expect(() => Prediction.fromCompletions({ a: [1, 2], b: [1] })).toThrow(/same length; found lengths a=2, b=1/);
    expect(() => new Completions({ a: 1 } as never)).toThrow(/must be lists/);
  });

  it('rejects out-of-range completion indices and unknown fields', () => {
    const completions = Prediction.fromCompletions([{ a: 1 }]).completions!;
    expect(() => completions.at(1)).toThrow(DspyError);
    expect(() => completions.at(-1)).toThrow(/out of range/);
    expect(() => completions.get('b' as never)).toThrow(/No field 'b' in completions; fields are: a/);
  });

  it('has no input keys and no completions when built directly', () => {
    const pred = new Prediction({ answer: '4' });
    expect(pred.inputKeys).toBeUndefined();
    expect(pred.completions).toBeUndefined();
    expect(() => pred.inputs()).toThrow(/Inputs have not been set/);
    expect(pred.copy({ extra: 1 })).toBeInstanceOf(Prediction);
  });

  it('carries LM usage without mixing it into the data', () => {
    const pred = new Prediction({ answer: '4' });
    expect(pred.getLmUsage()).toBeUndefined();
    pred.lmUsage = { 'openai/gpt-4o-mini': { inputTokens: 10, outputTokens: 2 } };
    expect(pred.getLmUsage()).toEqual({ 'openai/gpt-4o-mini': { inputTokens: 10, outputTokens: 2 } });
    pred.setLmUsage({ m: { inputTokens: 1 } });
    expect(pred.lmUsage).toEqual({ m: { inputTokens: 1 } });
    expect(pred.keys()).toEqual(['answer']);
    expect(pred.toDict()).toEqual({ answer: '4' });
  });

  it("prints DSPy's repr", () => {
    expect(String(new Prediction({ answer: '4', score: 1 }))).toBe("Prediction(\n    answer='4',\n    score=1\n)");
    expect(String(Prediction.fromCompletions([{ answer: 'a' }, { answer: 'b' }]))).toBe(
      "Prediction(\n    answer='a',\n    completions=Completions(...)\n) (1 completions omitted)",
    );
  });
});
