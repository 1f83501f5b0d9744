/**
 * CPU cost per uncached call of the layers above the network, with an in-process AI SDK model that answers at once
 * (no HTTP, no JSON; it listens to the abort signal while it "runs", as `fetch` does): the model's `doGenerate` called
 * directly with an abort signal (what `@dspy-ts/lm-adapters` does underneath), `@dspy-ts/lm-adapters` `generate`
 * (cache off) with and without the concurrency limiter and with a caller abort signal, and the AI SDK's
 * `generateText` for comparison. `lm` minus `doGenerate+signal` is what dspy-ts adds to each uncached request.
 * Variants are interleaved `--reps` times; each rep is `--calls` calls, 64 in flight at a time.
 *
 *   node --import tsx --conditions=@dspy-ts/source bench/lm-adapters/adapter-cpu.ts [--reps 5] [--calls 20000]
 */
import { parseArgs } from 'node:util';
import type { LanguageModelV4, LanguageModelV4GenerateResult } from '@ai-sdk/provider';
import { generateText } from 'ai';
import { fromAISDK } from '../../packages/lm-adapters/src/index.ts';

const { values: args } = parseArgs({
  options: { reps: { type: 'string', default: '5' }, calls: { type: 'string', default: '20000' } },
});
const calls = Number(args.calls);
const concurrency = 64;

const answer: LanguageModelV4GenerateResult = {
  content: [{ type: 'text', text: '[[ ## answer ## ]]\nParis\n\n[[ ## completed ## ]]' }],
  finishReason: { unified: 'stop', raw: 'stop' },
  usage: {
    inputTokens: { total: 10, noCache: 10, cacheRead: undefined, cacheWrite: undefined },
    outputTokens: { total: 5, text: 5, reasoning: undefined },
  },
  warnings: [],
  response: { modelId: 'test-model' },
};
const model: LanguageModelV4 = {
  specificationVersion: 'v4',
  provider: 'local.chat',
  modelId: 'test-model',
  supportedUrls: {},
  // Like `fetch`, listen to the abort signal while the "request" runs.
  doGenerate: async ({ abortSignal }) => {
    const onAbort = () => {};
    abortSignal?.addEventListener('abort', onAbort);
    await Promise.resolve();
    abortSignal?.removeEventListener('abort', onAbort);
    return answer;
  },
  doStream: async () => {
    throw new Error('not used');
  },
} as LanguageModelV4;

async function pool(run: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < calls) await run(next++);
    }),
  );
}

const plain = fromAISDK(model, { cache: false });
const limited = fromAISDK(model, { cache: false, rateLimit: { maxConcurrency: concurrency } });
const variants: Record<string, () => Promise<void>> = {
  'doGenerate+signal': () =>
    pool((i) =>
      model.doGenerate({
        prompt: [{ role: 'user', content: [{ type: 'text', text: `q ${i}` }] }],
        abortSignal: new AbortController().signal,
      }),
    ),
  generateText: () =>
    pool((i) => generateText({ model, maxRetries: 0, messages: [{ role: 'user', content: `q ${i}` }] })),
  'generateText+signal': () =>
    pool((i) =>
      generateText({
        model,
        maxRetries: 0,
        abortSignal: new AbortController().signal,
        messages: [{ role: 'user', content: `q ${i}` }],
      }),
    ),
  'lm (no limiter)': () => pool((i) => plain.generate({ messages: [{ role: 'user', content: `q ${i}` }] })),
  'lm (limiter)': () => pool((i) => limited.generate({ messages: [{ role: 'user', content: `q ${i}` }] })),
  'lm (caller signal)': () =>
    pool((i) =>
      plain.generate({ messages: [{ role: 'user', content: `q ${i}` }], signal: new AbortController().signal }),
    ),
};
const results: Record<string, number[]> = Object.fromEntries(Object.keys(variants).map((name) => [name, []]));
for (const run of Object.values(variants)) await run(); // warm-up
for (let rep = 0; rep < Number(args.reps); rep++) {
  const entries = Object.entries(variants);
  // Rotated each rep so that no variant always runs first.
  for (const [name, run] of [...entries.slice(rep % entries.length), ...entries.slice(0, rep % entries.length)]) {
    const cpu0 = process.cpuUsage();
    await run();
    const cpu = process.cpuUsage(cpu0);
    results[name]?.push((cpu.user + cpu.system) / calls);
  }
}
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
const base = mean(results['doGenerate+signal'] as number[]);
const peer = mean(results.generateText as number[]);
console.log(`CPU µs per uncached call, in-process model (${args.reps} interleaved reps × ${calls} calls):`);
for (const [name, xs] of Object.entries(results)) {
  const delta = (value: number) => `${value >= 0 ? '+' : ''}${value.toFixed(1)}`;
  console.log(
    `  ${name.padEnd(20)} ${mean(xs).toFixed(1).padStart(6)} µs (min ${Math.min(...xs).toFixed(1)}, max ${Math.max(...xs).toFixed(1)})  ${delta(mean(xs) - base)} µs vs doGenerate+signal, ${delta(mean(xs) - peer)} vs generateText`,
  );
}
