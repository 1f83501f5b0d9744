import { describe, expectTypeOf, it } from 'vitest';
import { Example } from './example.ts';
import { Prediction } from './prediction.ts';

describe('typed examples and predictions are usable where untyped ones are expected', () => {
  it('assigns an example with input keys to the plain Example type', () => {
    const typed = new Example({ question: 'q', answer: 'a' }).withInputs('question');
    const plain: Example = typed;
    expectTypeOf(plain).toExtend<Example>();
    expectTypeOf(typed.labels().answer).toEqualTypeOf<string>();
  });

  it('assigns typed predictions and arrays of typed examples', () => {
    const pred = Prediction.fromCompletions([{ answer: 'a', score: 1 }]);
    const plain: Prediction = pred;
    const devset: Example[] = [new Example({ q: 'x', a: 'y' }).withInputs('q')];
    expectTypeOf(plain).toExtend<Prediction>();
    expectTypeOf(devset).toExtend<Example[]>();
  });
});
