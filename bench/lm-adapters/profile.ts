/**
 * Per-request CPU cost of each layer of the throughput path, to find where time goes (see RESULTS.md):
 *
 *   fetch        bare `fetch` + `response.json()` (the floor of this machine and server)
 *   doGenerate   the AI SDK provider model alone (`@ai-sdk/openai-compatible` `chatModel().doGenerate`)
 *   generateText the AI SDK's `generateText` over that model (`maxRetries: 0`), no dspy-ts code: the AI SDK's own
 *                call path, for comparison (the adapter calls `doGenerate` directly)
 *   generateText+signal  the same with an abort signal per request (the adapter passes one: timeout, cancel)
 *   lm           `@dspy-ts/lm-adapters` `generate` (cache off, concurrency limiter on), as in overhead.ts: request
 *                conversion + `doGenerate` with an abort signal + response conversion
 *
 * Each layer sends `--total` requests at `--concurrency` to the benchmark server (own process, `--latency` ms) and
 * reports wall time, % of ideal and client CPU µs per request (user + system, `process.cpuUsage`). Layers are
 * interleaved `--reps` times. For a CPU profile of one layer: `--only lm` with `node --cpu-prof`.
 *
 *   node --import tsx --conditions=@dspy-ts/source bench/lm-adapters/profile.ts [--reps 3] [--only lm]
 */
import { parseArgs } from 'node:util';
import { generateText } from 'ai';
import { localLM, localProvider } from '../../packages/lm-adapters/test/local-lm.ts';
import { startServerChild } from './server-child.ts';

const { values: args } = parseArgs({
  options: {
    total: { type: 'string', default: '2000' },
    concurrency: { type: 'string', default: '64' },
    latency: { type: 'string', default: '50' },
    reps: { type: 'string', default: '3' },
    only: { type: 'string' },
  },
});
const total = Number(args.total);
const concurrency = Number(args.concurrency);
const latencyMs = Number(args.latency);

const child = await startServerChild(latencyMs);
const { baseURL } = child;

async function pool(run: (i: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) await run(next++);
    }),
  );
}

const model = localProvider({ baseURL }).chatModel('test-model');
const lm = localLM({ baseURL }, { rateLimit: { maxConcurrency: concurrency } });
const layers: Record<string, () => Promise<void>> = {
  fetch: () =>
    pool(async (i) => {
      const response = await fetch(`${baseURL}/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'test-model', messages: [{ role: 'user', content: `peer ${i}` }] }),
      });
      await response.json();
    }),
  doGenerate: () =>
    pool(async (i) =>
      model.doGenerate({ prompt: [{ role: 'user', content: [{ type: 'text', text: `request ${i}` }] }] }),
    ),
  generateText: () =>
    pool((i) => generateText({ model, maxRetries: 0, messages: [{ role: 'user', content: `request ${i}` }] })),
  // As generateText, with a fresh abort signal per request (what the adapter passes for its timeout): undici then
  // tracks the signal for the request's lifetime.
  'generateText+signal': () =>
    pool((i) =>
      generateText({
        model,
        maxRetries: 0,
        abortSignal: new AbortController().signal,
        messages: [{ role: 'user', content: `request ${i}` }],
      }),
    ),
  // As in overhead.ts: all requests submitted at once, the limiter keeps `concurrency` in flight.
  lm: async () => {
    await Promise.all(
      Array.from({ length: total }, (_, i) => lm.generate({ messages: [{ role: 'user', content: `request ${i}` }] })),
    );
  },
};
const names = args.only ? args.only.split(',') : Object.keys(layers);
const ideal = (total / concurrency) * latencyMs;
const results: Record<string, { pct: number; cpu: number }[]> = Object.fromEntries(names.map((name) => [name, []]));
try {
  for (const name of names) await (layers[name] as () => Promise<void>)(); // warm-up
  for (let rep = 0; rep < Number(args.reps); rep++) {
    // Rotated each rep so that no layer always runs first.
    for (const name of [...names.slice(rep % names.length), ...names.slice(0, rep % names.length)]) {
      const cpu0 = process.cpuUsage();
      const start = performance.now();
      await (layers[name] as () => Promise<void>)();
      const elapsed = performance.now() - start;
      const cpu = process.cpuUsage(cpu0);
      results[name]?.push({ pct: (ideal / elapsed) * 100, cpu: (cpu.user + cpu.system) / total });
      console.log(
        `rep ${rep + 1} ${name.padEnd(19)} ${elapsed.toFixed(0).padStart(5)} ms  ${((ideal / elapsed) * 100).toFixed(1)}% of ideal  ${((cpu.user + cpu.system) / total).toFixed(0)} µs CPU/request`,
      );
    }
  }
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  console.log(`\nsummary (${args.reps} interleaved reps, ${total} requests @ ${concurrency}, ${latencyMs} ms):`);
  for (const [name, rows] of Object.entries(results)) {
    const pct = rows.map((r) => r.pct);
    const cpu = rows.map((r) => r.cpu);
    console.log(
      `  ${name.padEnd(19)} ${mean(pct).toFixed(1)}% of ideal (min ${Math.min(...pct).toFixed(1)}, max ${Math.max(...pct).toFixed(1)})  ${mean(cpu).toFixed(0)} µs CPU/request (min ${Math.min(...cpu).toFixed(0)}, max ${Math.max(...cpu).toFixed(0)})`,
    );
  }
} finally {
  await child.close();
}
