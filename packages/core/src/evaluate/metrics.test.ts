import { describe, expect, it } from 'vitest';
import { Example } from '../primitives/example.ts';
import { Prediction } from '../primitives/prediction.ts';
import {
  answerExactMatch,
  answerPassageMatch,
  exactMatch,
  f1,
  hotpotF1,
  normalizeText,
  passageHasAnswers,
} from './metrics.ts';
import { pythonRound } from './python-number.ts';

describe('normalizeText', () => {
  it('matches DSPy: NFD, lower case, no punctuation, no articles, collapsed spaces', () => {
    expect(normalizeText('  The Eiffel-Tower,  in   Paris!  ')).toBe('eiffeltower in paris');
    expect(normalizeText('An apple a day')).toBe('apple day');
    expect(normalizeText('theatre anthem')).toBe('theatre anthem');
    // NFD splits é into e + a combining mark, which is not a word character for Python's `\b`.
    expect(normalizeText('Café')).toBe('cafe\u0301');
    expect(normalizeText('thé')).toBe('\u0301');
    expect(normalizeText('a\x1cb\u3000c\ufeffd')).toBe('b c\ufeffd');
  });
});

describe('exactMatch, f1, hotpotF1', () => {
  it('scores against every accepted answer and keeps the best', () => {
    expect(exactMatch('the Paris', ['London', 'paris.'])).toBe(true);
    expect(exactMatch('Paris France', 'Paris')).toBe(false);
    expect(f1('Paris France', ['Paris'])).toBeCloseTo(2 / 3);
    expect(f1('cat cat dog', 'cat dog dog')).toBeCloseTo(2 / 3);
    expect(f1('nothing', ['else'])).toBe(0);
  });

  it('gives hotpotF1 0 for yes/no answers that differ', () => {
    expect(hotpotF1('yes', ['yes it is'])).toBe(0);
    expect(f1('yes', ['yes it is'])).toBe(0.5);
    expect(hotpotF1('no', 'No.')).toBe(1);
  });
});

describe('answerExactMatch and answerPassageMatch', () => {
  const example = new Example({ question: 'q', answer: ['Barack Obama', 'Obama'] });

  it('accepts string or list answers, with frac switching to F1', () => {
    expect(answerExactMatch(example, Prediction.from({ answer: 'obama' }))).toBe(true);
    expect(answerExactMatch(new Example({ answer: 'Obama' }), { answer: 'Barack H. Obama' })).toBe(false);
    expect(answerExactMatch(new Example({ answer: 'Obama' }), { answer: 'Barack Obama' }, { frac: 0.6 })).toBe(true);
    expect(() => answerExactMatch(new Example({ answer: 3 }), { answer: '3' })).toThrow(/string or a list/);
  });

  it('finds answers as whole tokens in the retrieved passages', () => {
    expect(passageHasAnswers('Obama was born in Hawaii.', ['born in hawaii'])).toBe(true);
    expect(passageHasAnswers('Obamacare passed.', ['Obama'])).toBe(false);
    expect(answerPassageMatch(example, { context: ['nothing here', 'President Obama spoke.'] })).toBe(true);
    expect(answerPassageMatch(example, { context: ['nothing here'] })).toBe(false);
  });
});

describe('pythonRound', () => {
  it('rounds like Python, ties on the exact binary value going to even', () => {
    expect(pythonRound(66.66666666666667, 2)).toBe(66.67);
    expect(pythonRound(0.125, 2)).toBe(0.12);
    expect(pythonRound(0.375, 2)).toBe(0.38);
    expect(pythonRound(2.675, 2)).toBe(2.67); // 2.675 is really 2.67499999...
    expect(pythonRound(2.5, 0)).toBe(2);
    expect(pythonRound(62.5, 0)).toBe(62);
    expect(pythonRound(-0.125, 2)).toBe(-0.12);
  });
});
