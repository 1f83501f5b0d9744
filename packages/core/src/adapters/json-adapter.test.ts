import { describe, expect, it } from 'vitest';
import { AdapterParseError } from '../errors.ts';
import { Signature } from '../signature/signature.ts';
import { firstBalancedBraces, JSONAdapter } from './json-adapter.ts';

const adapter = new JSONAdapter();

describe('JSONAdapter.format', () => {
  const sig = Signature.parse('question -> answer, confidence: float');

  it('asks for the fields in order with type requirements', () => {
    const messages = adapter.format(sig, [], { question: 'q' });
    expect(messages[1]?.content).toBe(
      '[[ ## question ## ]]\nq\n\nRespond with a JSON object in the following order of fields: `answer`, then `confidence` (must be formatted as a valid Python float).',
    );
    expect(messages[0]?.content).toContain(
      'Outputs will be a JSON object with the following fields.\n\n{\n  "answer": "{answer}",\n  "confidence": "{confidence}        # note: the value you produce must be a single float value"\n}\nIn adhering',
    );
  });

  it('renders demos as indented JSON with Python floats and missing-field text', () => {
    const messages = adapter.format(
      sig,
      [
        { question: 'q1', answer: 'a1', confidence: 1 },
        { question: 'q2', answer: 'a2' },
      ],
      {
        question: 'q3',
      },
    );
    expect(messages[2]?.content).toBe(
      '{\n  "answer": "a2",\n  "confidence": "Not supplied for this particular example. "\n}',
    );
    expect(messages[4]?.content).toBe('{\n  "answer": "a1",\n  "confidence": 1.0\n}');
  });
});

describe('JSONAdapter.parse', () => {
  const sig = Signature.parse('question -> answer, score: int');

  it('parses plain, fenced, prose-wrapped and Python-ish JSON, dropping unknown keys', () => {
    expect(adapter.parse(sig, '{"answer": "a", "score": "3", "extra": 1}')).toEqual({ answer: 'a', score: 3 });
    expect(adapter.parse(sig, 'Here you go:\n```json\n{"answer": "a", "score": 3}\n```\nDone.')).toEqual({
      answer: 'a',
      score: 3,
    });
    expect(adapter.parse(sig, "{'answer': 'b', 'score': 4,}")).toEqual({ answer: 'b', score: 4 });
  });

  it('rejects replies that are not JSON objects', () => {
    expect(() => adapter.parse(sig, '[1, 2]')).toThrow(
      /^LM response cannot be serialized to a JSON object\.\n\nAdapter JSONAdapter failed to parse the LM response\. /,
    );
  });

  it('reports missing fields', () => {
    try {
      adapter.parse(sig, '{"answer": "a"}');
      expect.unreachable();
    } catch (error) {
      expect(AdapterParseError.isInstance(error)).toBe(true);
      expect((error as Error).message).toContain(
        'Expected to find output fields in the LM response: [answer, score] \n\nActual output fields parsed from the LM response: [answer] \n\n',
      );
    }
  });

  it('finds the first balanced braces', () => {
    expect(firstBalancedBraces('x {a {b} c} {d}')).toBe('{a {b} c}');
    expect(firstBalancedBraces('{ unclosed {ok}')).toBe('{ok}');
    expect(firstBalancedBraces('none')).toBeUndefined();
  });
});
