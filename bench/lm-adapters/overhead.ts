/**
 * Overhead of @dspy-ts/lm-adapters, against peers run in the same process:
 *
 * 1. a cached `Predict` call end to end (ChatAdapter format + cache lookup + parse), median per call, next to the same
 *    call on core's `ScriptedLM` (no cache, no AI SDK) — the difference is what the adapter layer costs on a hit;
 * 2. throughput of 2,000 uncached requests at concurrency 64 through the real AI SDK client stack against a local
 *    OpenAI-compatible server with 50 ms latency (in its own process, like a remote provider), as a fraction of the
 *    ideal (requests / concurrency × latency), next to the same requests sent with bare `fetch`.
 *
 * Run from the repository root:
 *   node --import tsx --conditions=@dspy-ts/source bench/lm-adapters/overhead.ts
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Predict } from '@dspy-ts/core';
import { ScriptedLM } from '@dspy-ts/core/testing';
import { LMCache } from '../../packages/lm-adapters/src/index.ts';
import { localLM } from '../../packages/lm-adapters/test/local-lm.ts';
import { startOpenAIServer } from '../../packages/lm-adapters/test/openai-server.ts';

const ANSWER = '[[ ## answer ## ]]\nParis\n\n[[ ## completed ## ]]';

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
  const qa = new Predict('question -> answer');
  const inputs = { question: 'What is the capital of France?' };
  const cachedLM = localLM(server, { cache: new LMCache() });
  await qa.call(inputs, { lm: cachedLM });
  const cached = await timeCalls(() => qa.call(inputs, { lm: cachedLM }), 2000);
  const scripted = new ScriptedLM(() => ANSWER);
  const peer = await timeCalls(() => qa.call(inputs, { lm: scripted }), 2000);
  const cachedMedian = median(cached);
  const peerMedian = median(peer);
  console.log('cached Predict call (median of 2,000):');
  console.log(`  lm-adapters, cache hit : ${(cachedMedian * 1000).toFixed(1)} µs   (target < 200 µs)`);
  console.log(`  ScriptedLM peer        : ${(peerMedian * 1000).toFixed(1)} µs`);
  console.log(
    `  adapter-layer overhead : ${((cachedMedian - peerMedian) * 1000).toFixed(1)} µs (${(cachedMedian / peerMedian).toFixed(2)}× the peer)`,
  );

  // 2. Throughput at concurrency 64 against 50 ms latency, the server in its own process.
  const total = 2000;
  const concurrency = 64;
  const latencyMs = 50;
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      '--conditions=@dspy-ts/source',
      join(dirname(fileURLToPath(import.meta.url)), 'server-process.ts'),
      String(latencyMs),
    ],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  try {
    const [firstChunk] = (await once(child.stdout, 'data')) as [Buffer];
    const baseURL = firstChunk.toString().trim().split('\n')[0] as string;
    const remote = { baseURL };
    const pool = async (run: (i: number) => Promise<unknown>) => {
      let next = 0;
      await Promise.all(
        Array.from({ length: concurrency }, async () => {
          while (next < total) await run(next++);
        }),
      );
    };
    const lm = localLM(remote, { rateLimit: { maxConcurrency: concurrency } });
    await pool((i) => lm.generate({ messages: [{ role: 'user', content: `warm ${i}` }] }));
    const start = performance.now();
    await Promise.all(
      Array.from({ length: total }, (_, i) => lm.generate({ messages: [{ role: 'user', content: `request ${i}` }] })),
    );
    const elapsed = performance.now() - start;
    const ideal = (total / concurrency) * latencyMs;

    // Peer: the same requests as bare `fetch` calls (no AI SDK, no adapter): the ceiling of this machine and server.
    const fetchStart = performance.now();
    await pool(async (i) => {
      const response = await fetch(`${baseURL}/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'test-model', messages: [{ role: 'user', content: `peer ${i}` }] }),
      });
      await response.json();
    });
    const fetchElapsed = performance.now() - fetchStart;

    console.log(`throughput, ${total} requests at concurrency ${concurrency}, ${latencyMs} ms latency:`);
    console.log(`  elapsed                : ${elapsed.toFixed(0)} ms (ideal ${ideal.toFixed(0)} ms)`);
    console.log(`  requests per second    : ${((total / elapsed) * 1000).toFixed(0)}`);
    console.log(`  efficiency             : ${((ideal / elapsed) * 100).toFixed(1)}% of ideal (target ≥ 90%)`);
    console.log(
      `  bare fetch peer        : ${fetchElapsed.toFixed(0)} ms, ${((ideal / fetchElapsed) * 100).toFixed(1)}% of ideal`,
    );
    console.log(`  lm-adapters / peer     : ${((fetchElapsed / elapsed) * 100).toFixed(1)}% of the peer's throughput`);
  } finally {
    child.stdin.end();
    await once(child, 'exit');
  }
} finally {
  await server.close();
}
