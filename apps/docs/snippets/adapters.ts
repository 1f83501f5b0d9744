import { configure, context, JSONAdapter, Predict, TwoStepAdapter, XMLAdapter } from '@dspy-ts/core';
import { lm } from '@dspy-ts/lm-adapters';

// The adapter is a setting: every predictor uses it unless a scope overrides it.
configure({ lm: lm('openai/gpt-4o-mini'), adapter: new JSONAdapter() });

const extract = new Predict('invoice: str -> vendor: str, total: float, lines: list[str]');
const invoice = 'ACME Corp — 2 × widgets at $4.50, 1 × gizmo at $12 — total $21.00';

const fromJson = await extract.call({ invoice });

// For one call (and everything it awaits), through AsyncLocalStorage:
const fromXml = await context({ adapter: new XMLAdapter() }, () => extract.call({ invoice }));

// A reasoning model answers freely; a small model extracts the fields.
const twoStep = new TwoStepAdapter(lm('openai/gpt-4o-mini'));
const fromReasoner = await context({ lm: lm('openai/o4-mini'), adapter: twoStep }, () => extract.call({ invoice }));

console.log(fromJson.total, fromXml.total, fromReasoner.total);
