/**
 * Greedy generation speed of the `@dspy-ts/smt` LLaMA runtime on stories260K, in tokens per second, optionally
 * against llama2.c's C `run` binary run by the same script (the peer prints `achieved tok/s: N`).
 *
 * Usage (from `bench/`):
 *   tsx --conditions=@dspy-ts/source smt-generation/generation.ts [--llama2c PATH] [options]
 *
 * Options:
 *   --llama2c PATH     compiled llama2.c `run` binary (default: $LLAMA2C_RUN); omitted = ours only
 *   --model DIR        directory with stories260K.bin and tok512.bin (default: ../shared/models/stories260K
 *                      next to the checkout)
 *   --tokens N         tokens per run (default 256)
 *   --runs N           measured runs per side (default 9); the median is reported
 *   --warmup N         unmeasured runs of ours first, for the JIT (default 5)
 *   --backend NAME     reference | auto | wasm (default reference; decoding uses direct loops either way)
 *   --inference PATH   auto | backend (default auto; `backend` routes every step through the kernels)
 *   --json             print one JSON object instead of the table
 *
 * @module
 */

import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadLlama2c } from '@dspy-ts/smt';

const { values: args } = parseArgs({
  options: {
    llama2c: { type: 'string' },
    model: { type: 'string' },
    tokens: { type: 'string', default: '256' },
    runs: { type: 'string', default: '9' },
    warmup: { type: 'string', default: '5' },
    backend: { type: 'string', default: 'reference' },
    inference: { type: 'string', default: 'auto' },
    json: { type: 'boolean', default: false },
  },
});

function positiveInt(name: string, text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer, got '${text}'.`);
  return n;
}

const tokens = positiveInt('tokens', args.tokens);
const runs = positiveInt('runs', args.runs);
const warmup = Number(args.warmup);
const backend = args.backend as 'reference' | 'auto' | 'wasm';
if (!['reference', 'auto', 'wasm'].includes(backend)) throw new Error(`--backend must be reference, auto or wasm.`);
const inference = args.inference as 'auto' | 'backend';
if (!['auto', 'backend'].includes(inference)) throw new Error(`--inference must be auto or backend.`);
const modelDir = args.model ?? fileURLToPath(new URL('../../../shared/models/stories260K/', import.meta.url));
const checkpoint = `${modelDir.replace(/\/$/, '')}/stories260K.bin`;
const tokenizer = `${modelDir.replace(/\/$/, '')}/tok512.bin`;
const peerBinary = args.llama2c ?? process.env.LLAMA2C_RUN;
if (peerBinary !== undefined && !existsSync(peerBinary)) {
  throw new Error(`llama2.c binary not found at ${peerBinary} (from --llama2c or LLAMA2C_RUN).`);
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

const model = await loadLlama2c({ checkpoint, tokenizer, backend, inference });

/** One greedy generation from BOS; tokens per second over the whole call (prompt step included). */
function runOurs(): { tokPerS: number; text: string } {
  const start = performance.now();
  // No stop tokens, so every run generates exactly `tokens` tokens.
  const result = model.generate('', { maxNewTokens: tokens, temperature: 0, stopTokens: [] });
  const seconds = (performance.now() - start) / 1000;
  return { tokPerS: result.tokens.length / seconds, text: result.text };
}

/**
 * One run of llama2.c: `run model.bin -z tok.bin -t 0 -n tokens`. It generates from BOS and reports tokens per
 * second after its first step, with a millisecond clock.
 */
function runPeer(binary: string): { tokPerS: number; text: string } {
  const child = spawnSync(binary, [checkpoint, '-z', tokenizer, '-t', '0', '-n', String(tokens)], {
    encoding: 'utf8',
  });
  if (child.status !== 0) {
    throw new Error(`${binary} exited with ${child.status ?? child.signal}: ${child.stderr}`);
  }
  const match = /achieved tok\/s: ([0-9.]+)/.exec(child.stderr);
  if (!match) throw new Error(`${binary} did not print "achieved tok/s: N"; stderr was: ${child.stderr}`);
  return { tokPerS: Number(match[1]), text: child.stdout };
}

for (let i = 0; i < warmup; i++) runOurs();
const ours: number[] = [];
const peer: number[] = [];
let ourText = '';
let peerText = '';
// Alternate the two sides so that load from other processes hits both alike.
for (let i = 0; i < runs; i++) {
  const a = runOurs();
  ours.push(a.tokPerS);
  ourText = a.text;
  if (peerBinary) {
    const b = runPeer(peerBinary);
    peer.push(b.tokPerS);
    peerText = b.text;
  }
}
await model.dispose();

const report = {
  model: 'stories260K',
  tokens,
  runs,
  backend: model.backend.name,
  inference,
  oursTokPerS: median(ours),
  oursBestTokPerS: Math.max(...ours),
  oursRuns: ours.map((v) => Math.round(v)),
  peerTokPerS: peerBinary ? median(peer) : null,
  peerBestTokPerS: peerBinary ? Math.max(...peer) : null,
  peerRuns: peer.map((v) => Math.round(v)),
  ratio: peerBinary ? median(ours) / median(peer) : null,
  // On a busy machine the best run is the better estimate of uncontended speed; the median is the headline.
  bestRatio: peerBinary ? Math.max(...ours) / Math.max(...peer) : null,
  // run.c drops non-printable byte tokens; stories260K's greedy text has none, so the texts should be equal.
  sameText: peerBinary ? peerText.trimEnd() === ourText.trimEnd() : null,
  node: process.version,
  cpu: cpus()[0]?.model ?? 'unknown',
  nproc: availableParallelism(),
  date: new Date().toISOString(),
};

if (args.json) {
  console.log(JSON.stringify(report, null, 2));
} else {
  const fmt = (v: number) => v.toFixed(0).padStart(7);
  console.log(`stories260K greedy generation, ${tokens} tokens, ${runs} runs per side (tok/s: median, best)`);
  console.log(`machine: ${report.cpu}, ${report.nproc} CPUs, Node ${report.node}, ${report.date}`);
  console.log(
    `@dspy-ts/smt (${report.backend}, inference ${inference}): ${fmt(report.oursTokPerS)} ${fmt(report.oursBestTokPerS)}`,
  );
  if (report.peerTokPerS !== null) {
    console.log(`llama2.c run (${peerBinary}): ${fmt(report.peerTokPerS)} ${fmt(report.peerBestTokPerS!)}`);
    console.log(
      `ratio ours / llama2.c: median ${report.ratio!.toFixed(2)}, best ${report.bestRatio!.toFixed(2)} (target ≥ 0.50)`,
    );
    console.log(`same text as llama2.c: ${report.sameText ? 'yes' : 'NO'}`);
  }
}
