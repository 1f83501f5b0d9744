import { Signature, signature } from '@dspy-ts/core';
import { z } from 'zod';

// #region string
// DSPy's string syntax, with Python type names. Untyped fields are `str`.
const qa = Signature.parse('context: list[str], question -> answer, confidence: float');
qa.toString(); // 'context, question -> answer, confidence'
qa.instructions; // 'Given the fields `context`, `question`, produce the fields `answer`, `confidence`.'

// Literal, Optional and unions work as in DSPy, and the TypeScript types follow the text:
const triage = Signature.parse(
  "ticket: str -> queue: Literal['billing', 'tech', 'other'], urgent: bool, due: Optional[str]",
  'Route the support ticket.',
);
// #endregion string

// #region zod
// The same with zod schemas: descriptions, defaults and constraints come from the schema.
const rate = signature({
  instructions: 'Rate the review.',
  inputs: { review: z.string() },
  outputs: {
    stars: z.number().int().min(1).max(5).describe('1 (bad) to 5 (great)'),
    summary: z.string().describe('one sentence'),
  },
});
// #endregion zod

// #region edit
// Signatures are immutable: every edit returns a new one.
const withSources = qa
  .append('sources', { kind: 'output', type: 'list[str]', desc: 'the passages you used' })
  .withInstructions('Answer from the context only.');
// #endregion edit

console.log(qa.toString());
console.log(qa.instructions);
console.log(triage.outputFields.map((f) => f.name).join(', '));
console.log(rate.field('stars')?.desc);
console.log(withSources.toString());
