import assert from 'node:assert/strict';
import { ChainOfThought, context } from '@dspy-ts/core';
import { DummyLM, ScriptedLM } from '@dspy-ts/core/testing';

const classify = new ChainOfThought("text -> sentiment: Literal['positive', 'negative']");

// DummyLM (as in DSPy's own tests): each call returns the next object, formatted as the adapter expects.
const dummy = new DummyLM([{ reasoning: 'The text praises the product.', sentiment: 'positive' }]);
const prediction = await classify.call({ text: 'I love it!' }, { lm: dummy });
assert.equal(prediction.sentiment, 'positive');

// ScriptedLM: a function of the request, and every request is recorded.
const scripted = new ScriptedLM((request) => {
  const last = String(request.messages.at(-1)?.content);
  const sentiment = last.includes('awful') ? 'negative' : 'positive';
  return `[[ ## reasoning ## ]]\nChecked the wording.\n\n[[ ## sentiment ## ]]\n${sentiment}\n\n[[ ## completed ## ]]`;
});
await context({ lm: scripted }, () => classify.call({ text: 'This is awful.' }));

assert.equal(scripted.calls[0]?.response.choices[0]?.text.includes('negative'), true);
assert.match(String(scripted.lastRequest?.messages[0]?.content), /`sentiment` \(Literal\['positive', 'negative'\]\)/);
console.log('ok');
