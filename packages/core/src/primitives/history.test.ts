import { describe, expect, it } from 'vitest';
import { DspyError } from '../errors.ts';
import { History } from './history.ts';

describe('History', () => {
  it('holds frozen copies of the messages', () => {
    const source = [{ question: 'q1', answer: 'a1' }];
    const history = new History({ messages: source });
    source[0]!.question = 'changed';
    expect(history.messages).toEqual([{ question: 'q1', answer: 'a1' }]);
    expect(Object.isFrozen(history)).toBe(true);
    expect(Object.isFrozen(history.messages)).toBe(true);
    expect(Object.isFrozen(history.messages[0])).toBe(true);
    expect(JSON.parse(JSON.stringify(history))).toEqual({ messages: [{ question: 'q1', answer: 'a1' }] });
  });

  it('rejects malformed input like the frozen pydantic model', () => {
    expect(() => new History({ messages: 'x' } as never)).toThrow(DspyError);
    expect(() => new History({ messages: [1] } as never)).toThrow(/messages\[0\]/);
    expect(() => new History({ messages: [], extra: 1 } as never)).toThrow(/extra keys: extra/);
  });
});
