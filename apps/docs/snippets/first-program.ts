import { ChainOfThought, configure, Signature } from '@dspy-ts/core';
import { lm } from '@dspy-ts/lm-adapters';

// Any "provider/model" the AI SDK knows; @ai-sdk/openai reads OPENAI_API_KEY.
configure({ lm: lm('openai/gpt-4o-mini', { temperature: 0 }) });

// What the step takes and returns. The string is parsed at run time (the reply is
// validated against it) and at compile time (TypeScript infers the field types).
const trip = Signature.parse(
  'departure: str, arrival: str -> hours: float',
  'Compute how long the trip takes, in hours.',
);
const solve = new ChainOfThought(trip);

const prediction = await solve.call({ departure: '9:40', arrival: '11:15' });

console.log(prediction.reasoning); // string: the step-by-step reasoning
console.log(prediction.hours.toFixed(2)); // number: parsed from the reply
