import { configure, ReAct, Tool } from '@dspy-ts/core';
import { lm } from '@dspy-ts/lm-adapters';
import { z } from 'zod';

configure({ lm: lm('openai/gpt-4o-mini') });

const prices: Record<string, number> = { apple: 0.5, pear: 0.75 };

const lookupPrice = new Tool(({ item }: { item: string }) => prices[item] ?? 'unknown item', {
  name: 'lookup_price',
  description: 'The unit price of an item, in dollars.',
  args: z.object({ item: z.string() }),
});

const agent = new ReAct('order: str -> total: float', { tools: [lookupPrice], maxIters: 5 });
const { total, trajectory } = await agent.call({ order: '4 apples and 2 pears' });

console.log(total); // 3.5
console.log(Object.keys(trajectory)); // [ 'thought_0', 'tool_name_0', 'tool_args_0', 'observation_0', … ]
