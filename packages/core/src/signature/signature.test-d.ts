import { describe, expectTypeOf, it } from 'vitest';
import { z } from 'zod';
import type { History } from '../primitives/history.ts';
import type { ParseTypeText } from './infer-signature-types.ts';
import { Signature, type SignatureInputs, type SignatureOutputs, signature } from './signature.ts';

describe('Signature.parse types', () => {
  it('infers inputs and outputs from the text', () => {
    const sig = Signature.parse('question: str -> answer: int');
    expectTypeOf(sig).toEqualTypeOf<Signature<{ question: string }, { answer: number }>>();
    expectTypeOf(sig).not.toEqualTypeOf<Signature<{ question: string }, { answer: string }>>();
  });

  it('treats untyped fields as strings and handles whitespace and many fields', () => {
    const sig = Signature.parse(' question ,  context: list[str]->answer,  score: float ');
    expectTypeOf<SignatureInputs<typeof sig>>().toEqualTypeOf<{ question: string; context: string[] }>();
    expectTypeOf<SignatureOutputs<typeof sig>>().toEqualTypeOf<{ answer: string; score: number }>();
  });

  it('maps every type form', () => {
    expectTypeOf<ParseTypeText<'bool'>>().toEqualTypeOf<boolean>();
    expectTypeOf<ParseTypeText<'Any'>>().toEqualTypeOf<unknown>();
    expectTypeOf<ParseTypeText<'History'>>().toEqualTypeOf<History>();
    expectTypeOf<ParseTypeText<'list'>>().toEqualTypeOf<unknown[]>();
    expectTypeOf<ParseTypeText<'dict'>>().toEqualTypeOf<Record<string, unknown>>();
    expectTypeOf<ParseTypeText<'dict[str, int]'>>().toEqualTypeOf<Record<string, number>>();
    expectTypeOf<ParseTypeText<'Optional[int]'>>().toEqualTypeOf<number | null>();
    expectTypeOf<ParseTypeText<'int | None'>>().toEqualTypeOf<number | null>();
    expectTypeOf<ParseTypeText<'Union[str, list[int]]'>>().toEqualTypeOf<string | number[]>();
    expectTypeOf<ParseTypeText<"Literal['a', 'b']">>().toEqualTypeOf<'a' | 'b'>();
    expectTypeOf<ParseTypeText<`Literal["x, y", 1, True, None]`>>().toEqualTypeOf<'x, y' | 1 | true | null>();
    expectTypeOf<ParseTypeText<'tuple[int, str]'>>().toEqualTypeOf<[number, string]>();
    expectTypeOf<ParseTypeText<'tuple[int, ...]'>>().toEqualTypeOf<number[]>();
    expectTypeOf<ParseTypeText<'dict[str, list[Optional[int]]]'>>().toEqualTypeOf<Record<string, (number | null)[]>>();
  });

  it('resolves custom types from options.types', () => {
    const Person = z.object({ name: z.string(), age: z.number() });
    const sig = Signature.parse('people: list[Person] -> oldest: Person | None', undefined, { types: { Person } });
    expectTypeOf<SignatureInputs<typeof sig>>().toEqualTypeOf<{ people: { name: string; age: number }[] }>();
    expectTypeOf<SignatureOutputs<typeof sig>>().toEqualTypeOf<{ oldest: { name: string; age: number } | null }>();
  });

  it('degrades to unknown instead of failing to compile', () => {
    const unknownType = Signature.parse('a: Mystery -> b: weird[[int]');
    expectTypeOf<SignatureInputs<typeof unknownType>>().toEqualTypeOf<{ a: unknown }>();
    const noArrow = Signature.from('not a signature');
    expectTypeOf<SignatureInputs<typeof noArrow>>().toEqualTypeOf<Record<string, unknown>>();
    const dynamic = Signature.parse('a -> b' as string);
    expectTypeOf<SignatureOutputs<typeof dynamic>>().toEqualTypeOf<Record<string, unknown>>();
  });

  it('keeps types through instruction edits', () => {
    const sig = Signature.parse('q -> a: bool').withInstructions('x').appendInstructions('y');
    expectTypeOf<SignatureOutputs<typeof sig>>().toEqualTypeOf<{ a: boolean }>();
  });
});

describe('signature() builder types', () => {
  it('infers from zod schemas', () => {
    const sig = signature({
      inputs: { question: z.string(), k: z.number().optional() },
      outputs: { label: z.enum(['pos', 'neg']), tags: z.array(z.string()) },
    });
    expectTypeOf<SignatureInputs<typeof sig>>().toEqualTypeOf<{ question: string; k: number | undefined }>();
    expectTypeOf<SignatureOutputs<typeof sig>>().toEqualTypeOf<{ label: 'pos' | 'neg'; tags: string[] }>();
  });
});
