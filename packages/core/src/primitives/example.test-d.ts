import { describe, expectTypeOf, it } from 'vitest';
import type { Completions } from './completions.ts';
import { Example } from './example.ts';
import { Prediction } from './prediction.ts';

describe('Example types', () => {
  it('types attribute access and splits', () => {
    const ex = new Example({ question: 'q', answer: 1 });
    expectTypeOf(ex.question).toEqualTypeOf<string>();
    expectTypeOf(ex.answer).toEqualTypeOf<number>();
    expectTypeOf(ex.get('answer')).toEqualTypeOf<number>();
    const marked = ex.withInputs('question');
    expectTypeOf(marked.inputs().toDict()).toEqualTypeOf<Pick<{ question: string; answer: number }, 'question'>>();
    expectTypeOf(marked.labels().answer).toEqualTypeOf<number>();
    // @ts-expect-error -- only existing keys can be inputs
    ex.withInputs('nope');
    expectTypeOf(ex.without('answer').toDict()).toEqualTypeOf<Omit<{ question: string; answer: number }, 'answer'>>();
    expectTypeOf(Example.from({ a: true }).a).toEqualTypeOf<boolean>();
  });

  it('keeps untyped examples open', () => {
    const ex = new Example();
    expectTypeOf(ex.anything).toBeAny();
  });

  it('lets typed examples and predictions pass where untyped ones are expected', () => {
    const typed = new Example({ q: 'x' });
    const wide: Example = typed;
    const list: Example[] = [typed, new Example({ n: 1 })];
    const pred: Prediction = Prediction.fromCompletions([{ answer: 'a' }]);
    const asExample: Example = pred;
    expectTypeOf([wide, list, pred, asExample]).not.toBeAny();
  });
});

describe('Prediction types', () => {
  it('types fields and completions', () => {
    const pred = Prediction.fromCompletions([{ answer: 'a', score: 1 }]);
    expectTypeOf(pred.answer).toEqualTypeOf<string>();
    expectTypeOf(pred.completions).toEqualTypeOf<Completions<{ answer: string; score: number }> | undefined>();
    expectTypeOf(pred.completions!.score).toEqualTypeOf<number[]>();
    expectTypeOf(pred.completions!.at(0).answer).toEqualTypeOf<string>();
    expectTypeOf(new Prediction({ x: 1 }).x).toEqualTypeOf<number>();
  });

  it('can be subclassed', () => {
    class Scored extends Prediction<{ score: number }> {
      doubled(): number {
        return this.get('score') * 2;
      }
    }
    expectTypeOf(new Scored({ score: 2 }).doubled()).toEqualTypeOf<number>();
  });
});
