import { describe, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import { Signature, signature } from '../signature/signature.ts';
import { Predict } from './predict.ts';

describe('Predict type inference', () => {
  it('types call inputs and prediction outputs from a parsed signature string', async () => {
    const predict = new Predict(Signature.parse('question: str, k: int -> answer: str, confidence: float'));
    expectTypeOf(predict.call).parameter(0).toEqualTypeOf<{ question: string; k: number }>();
    const pred = await predict.call({ question: 'q', k: 1 });
    expectTypeOf(pred.answer).toEqualTypeOf<string>();
    expectTypeOf(pred.confidence).toEqualTypeOf<number>();
  });

  it('types outputs from the zod builder', async () => {
    const sig = signature({ inputs: { text: z.string() }, outputs: { tags: z.array(z.enum(['a', 'b'])) } });
    const pred = await new Predict(sig).call({ text: 'x' });
    expectTypeOf(pred.tags).toEqualTypeOf<('a' | 'b')[]>();
  });
});
