import { describe, expect, it } from 'vitest';
import { normalizeText } from '../evaluate/metrics.ts';
import { Completions } from '../primitives/completions.ts';
import { Prediction } from '../primitives/prediction.ts';
import { Signature } from '../signature/signature.ts';
import { majority } from './majority.ts';

describe('majority', () => {
  it('picks the most common normalized value of the last output field', () => {
    const sig = Signature.parse('question -> answer, note');
    const pred = Prediction.fromCompletions(
      [
        { answer: 'x', note: 'Paris' },
        { answer: 'y', note: 'Lyon' },
        { answer: 'z', note: 'the paris!' },
      ],
      sig,
    );
    const winner = majority(pred);
    expect(winner.toDict()).toEqual({ answer: 'x', note: 'Paris' });
    expect(winner.completions?.length).toBe(1);
    expect(majority(pred, { field: 'answer' }).get('answer')).toBe('x');
  });

  it('breaks ties in favour of the earliest value', () => {
    const completions = new Completions([{ answer: 'b' }, { answer: 'a' }, { answer: 'a' }, { answer: 'b' }]);
    expect(majority(completions).get('answer')).toBe('b');
    expect(majority([{ answer: 'c' }, { answer: 'd' }]).get('answer')).toBe('c');
  });

  it('ignores values that normalize to nothing unless all do, and can compare raw values', () => {
    const list = [{ answer: '!!' }, { answer: 'the' }, { answer: 'Rome' }];
    expect(majority(list).get('answer')).toBe('Rome');
    expect(majority([{ answer: '?' }, { answer: '!' }]).get('answer')).toBe('?');
    expect(
      majority([{ answer: 'A' }, { answer: 'a' }, { answer: 'b' }, { answer: 'b' }], { normalize: null }).get('answer'),
    ).toBe('b');
  });

  it('normalizes like DSPy’s normalize_text', () => {
    expect(normalizeText('  The  Eiffel,  Tower! ')).toBe('eiffel tower');
    expect(normalizeText('An apple a day')).toBe('apple day');
  });
});
