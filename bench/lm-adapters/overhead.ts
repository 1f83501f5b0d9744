/**
 * Overhead of @dspy-ts/lm-adapters, against peers run in the same process:
 *
 * 1. a cached `Predict` call end to end (ChatAdapter format + cache lookup + parse), median per call, next to the same
 *    call on core's `ScriptedLM` (no cache, no AI SDK) — the difference is what the adapter layer costs on a hit;
 * 2. throughput of 2,000 uncached requests at concurrency 64 through the real AI SDK client stack against a local
 *    OpenAI-compatible server with 50 ms latency (in its own process, like a remote provider), as a fraction of the
 *    ideal (requests / concurrency × latency), next to the same requests sent with the AI SDK's `generateText` alone
 *    and with bare `fetch`, plus client CPU per request.
 *
 * Both parts run `--reps` interleaved repetitions (default 3, order rotated each rep) and report mean (min, max).
 *
 * With `--ax <dir>` (or `AX_PATH=<dir>`) pointing at an installed `@ax-llm/ax` package directory (installed outside
 * this repository, see README.md), part 1 also times the same question through ax: an `AxGen` program on
 * `AxMockAIService` (prompt rendering + parsing of a canned answer, the counterpart of the ScriptedLM peer and of
 * our cache hit) and the same program with ax's own result cache (`cachingFunction`) hit. Without it ax is skipped.
 *
 * Run from the repository root:
 *   node --import tsx --conditions=@dspy-ts/source bench/lm-adapters/overhead.ts [--reps 3] [--ax /tmp/ax/node_modules/@ax-llm/ax]
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { Predict } from '@dspy-ts/core';
import { ScriptedLM } from '@dspy-ts/core/testing';
import { generateText } from 'ai';
import { LMCache } from '../../packages/lm-adapters/src/index.ts';
import { localLM, localProvider } from '../../packages/lm-adapters/test/local-lm.ts';
import { startOpenAIServer } from '../../packages/lm-adapters/test/openai-server.ts';
import { startServerChild } from './server-child.ts';

const ANSWER = '[[ ## answer ## ]]\nParis\n\n[[ ## completed ## ]]';

const { values: args } = parseArgs({
  options: { reps: { type: 'string', default: '3' }, ax: { type: 'string' } },
});
const reps = Math.max(1, Number(args.reps));
const axDir = args.ax ?? process.env.AX_PATH;

/** The subset of `@ax-llm/ax` used here (loaded at run time from `--ax`; never a dependency of this repository). */
interface AxModule {
  ax(signature: string): { forward(ai: unknown, values: object, options?: object): Promise<Record<string, unknown>> };
  AxMockAIService: new (config: object) => unknown;
}

/** Imports ax from a package directory (`…/node_modules/@ax-llm/ax`), or returns why it cannot. */
async function loadAx(dir: string | undefined): Promise<{ ax?: AxModule; version?: string; reason?: string }> {
  if (!dir) return { reason: 'skipped (not installed: pass --ax <dir> or AX_PATH)' };
  const packageJson = join(resolve(dir), 'package.json');
  if (!existsSync(packageJson)) return { reason: `skipped (not installed: no package.json in ${dir})` };
  const manifest = JSON.parse(readFileSync(packageJson, 'utf8')) as { version: string; module?: string };
  const entry = join(resolve(dir), manifest.module ?? 'index.js');
  return { ax: (await import(pathToFileURL(entry).href)) as AxModule, version: manifest.version };
}

function mean(values: number[]): number {
  return values.reduce((a, b) => a + b, 0) / values.length;
}

function spread(values: number[], digits = 1): string {
  return `${mean(values).toFixed(digits)} (min ${Math.min(...values).toFixed(digits)}, max ${Math.max(...values).toFixed(digits)})`;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

async function timeCalls(fn: () => Promise<unknown>, iterations: number): Promise<number[]> {
  for (let i = 0; i < 200; i++) await fn();
  const times: number[] = [];
  for (let i = 0; i < iterations; i++) {
    const start = performance.now();
    await fn();
    times.push(performance.now() - start);
  }
  return times;
}

const server = await startOpenAIServer({ reply: () => ({ text: ANSWER }) });
try {
  // 1. Cached Predict call.
  // Each variant: 2,000 timed calls per rep, reps interleaved; reported: the median of each rep, then mean (min, max).
  const qa = new Predict('question -> answer');
  const inputs = { question: 'What is the capital of France?' };
  const cachedLM = localLM(server, { cache: new LMCache() });
  await qa.call(inputs, { lm: cachedLM });
  const scripted = new ScriptedLM(() => ANSWER);
  const variants: [string, () => Promise<unknown>][] = [
    ['lm-adapters, cache hit', () => qa.call(inputs, { lm: cachedLM })],
    ['ScriptedLM peer', () => qa.call(inputs, { lm: scripted })],
  ];
  const axLoad = await loadAx(axDir);
  if (axLoad.ax) {
    const { ax, AxMockAIService } = axLoad.ax;
    const program = ax('question:string -> answer:string');
    // ax's own output format ("Answer: Paris"), returned from memory by ax's mock service.
    const mockAI = new AxMockAIService({
      features: { functions: false, streaming: false },
      chatResponse: {
        results: [{ index: 0, content: 'Answer: Paris', finishReason: 'stop' }],
        modelUsage: { ai: 'mock', model: 'mock', tokens: { promptTokens: 10, completionTokens: 5, totalTokens: 15 } },
      },
    });
    const axCache = new Map<string, unknown>();
    const cachingFunction = (key: string, value?: unknown) => {
      if (value !== undefined) axCache.set(key, value);
      return axCache.get(key);
    };
    const answer = await program.forward(mockAI, inputs);
    if (answer.answer !== 'Paris') throw new Error(`ax returned ${JSON.stringify(answer)}`);
    await program.forward(mockAI, inputs, { cachingFunction });
    variants.push(
      [`ax ${axLoad.version} AxGen, mock AI`, () => program.forward(mockAI, inputs)],
      [`ax ${axLoad.version} AxGen, cache hit`, () => program.forward(mockAI, inputs, { cachingFunction })],
    );
  }
  const medians = new Map<string, number[]>(variants.map(([name]) => [name, []]));
  for (let rep = 0; rep < reps; rep++) {
    const order = [...variants.slice(rep % variants.length), ...variants.slice(0, rep % variants.length)];
    for (const [name, fn] of order) medians.get(name)?.push(median(await timeCalls(fn, 2000)) * 1000);
  }
  const ours = mean(medians.get('lm-adapters, cache hit') as number[]);
  const scriptedMean = mean(medians.get('ScriptedLM peer') as number[]);
  console.log(`cached/scripted call, median µs of 2,000 calls; mean (min, max) over ${reps} interleaved reps:`);
  for (const [name, values] of medians) {
    const target = name === 'lm-adapters, cache hit' ? '   (target < 200 µs)' : '';
    console.log(`  ${name.padEnd(34)}: ${spread(values)} µs, ${(mean(values) / ours).toFixed(2)}× ours${target}`);
  }
  console.log(
    `  adapter-layer overhead            : ${(ours - scriptedMean).toFixed(1)} µs (${(ours / scriptedMean).toFixed(2)}× the ScriptedLM peer)`,
  );
  if (!axLoad.ax) console.log(`  @ax-llm/ax                        : ${axLoad.reason}`);

  // 2. Throughput at concurrency 64 against 50 ms latency, the server in its own process; layers interleaved.
  const total = 2000;
  const concurrency = 64;
  const latencyMs = 50;
  const child = await startServerChild(latencyMs);
  try {
    const { baseURL } = child;
    const remote = { baseURL };
    const pool = async (run: (i: number) => Promise<unknown>) => {
      let next = 0;
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (next < total) await run(next++);
        }),
      );
    };
    const ideal = (total / concurrency) * latencyMs;
    const lm = localLM(remote, { rateLimit: { maxConcurrency: concurrency } });
    const model = localProvider(remote).chatModel('test-model');
    const layers: [string, () => Promise<unknown>][] = [
      // All requests submitted at once; the LM's limiter keeps `concurrency` in flight.
      [
        'lm-adapters',
        () =>
          Promise.all(
            Array.from({ length: total }, (_, i) =>
              lm.generate({ messages: [{ role: 'user', content: `request ${i}` }] }),
            ),
          ),
      ],
      // Peer: the AI SDK's own call path alone (same provider, `generateText`, no dspy-ts code). The adapter calls the
      // provider's `doGenerate` directly, so it can use less CPU than this peer.
      [
        'AI SDK generateText peer',
        () =>
          pool((i) => generateText({ model, maxRetries: 0, messages: [{ role: 'user', content: `request ${i}` }] })),
      ],
      // Peer: bare `fetch` calls (no AI SDK, no adapter): the ceiling of this machine and server.
      [
        'bare fetch peer',
        () =>
          pool(async (i) => {
            const response = await fetch(`${baseURL}/chat/completions`, {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body: JSON.stringify({ model: 'test-model', messages: [{ role: 'user', content: `peer ${i}` }] }),
            });
            await response.json();
          }),
      ],
    ];
    // The server counts what it receives: after every run it must have seen exactly `total` chat requests, all with
    // different prompts — no retry, duplicate or lost request inflates or deflates the rate.
    const checked: string[] = [];
    const checkServer = async (name: string) => {
      const stats = await child.stats();
      if (stats.chat !== total || stats.distinct !== total) {
        throw new Error(
          `${name}: the server received ${stats.chat} chat requests with ${stats.distinct} distinct prompts, expected ${total} and ${total}.`,
        );
      }
      checked.push(name);
    };
    for (const [name, run] of layers) {
      await run(); // warm-up
      await checkServer(name);
    }
    const efficiency = new Map<string, number[]>(layers.map(([name]) => [name, []]));
    const cpuPerRequest = new Map<string, number[]>(layers.map(([name]) => [name, []]));
    for (let rep = 0; rep < reps; rep++) {
      // Rotate the order each rep so that no layer always runs first (or right after the same neighbour).
      for (const [name, run] of [...layers.slice(rep % layers.length), ...layers.slice(0, rep % layers.length)]) {
        const cpu0 = process.cpuUsage();
        const start = performance.now();
        await run();
        const elapsed = performance.now() - start;
        const cpu = process.cpuUsage(cpu0);
        efficiency.get(name)?.push((ideal / elapsed) * 100);
        cpuPerRequest.get(name)?.push((cpu.user + cpu.system) / total);
        await checkServer(name);
      }
    }

    console.log(
      `throughput, ${total} requests at concurrency ${concurrency}, ${latencyMs} ms latency (ideal ${ideal.toFixed(0)} ms); mean (min, max) over ${reps} interleaved reps:`,
    );
    for (const [name] of layers) {
      const target = name === 'lm-adapters' ? '  (target ≥ 90%)' : '';
      console.log(
        `  ${name.padEnd(26)}: ${spread(efficiency.get(name) as number[])} % of ideal, ${spread(cpuPerRequest.get(name) as number[], 0)} µs client CPU/request${target}`,
      );
    }
    console.log(
      `  server count              : exactly ${total} chat requests with ${total} distinct prompts after each of ${checked.length} runs`,
    );
    const ratio = (a: string, b: string) =>
      ((mean(efficiency.get(a) as number[]) / mean(efficiency.get(b) as number[])) * 100).toFixed(1);
    console.log(`  lm-adapters / fetch peer  : ${ratio('lm-adapters', 'bare fetch peer')}% of the peer's throughput`);
    console.log(
      `  lm-adapters / AI SDK peer : ${ratio('lm-adapters', 'AI SDK generateText peer')}% of the peer's throughput`,
    );
  } finally {
    await child.close();
  }
} finally {
  await server.close();
}
