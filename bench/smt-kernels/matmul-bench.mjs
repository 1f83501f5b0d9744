#!/usr/bin/env node
/**
 * Kernel benchmark of `@dspy-ts/smt`: dense matmul GFLOP/s of the reference and wasm backends against
 * `@tensorflow/tfjs-backend-wasm` (XNNPACK, SIMD) and, when it can be imported, `onnxruntime-node`, all in one
 * process; then the block-sparse weight gradient of Sparse Matrix Tuning against the dense weight gradient on the
 * same backend. Timings are medians after warm-up; ratios compare peers measured in this same run.
 *
 * Usage (after `npm run build`): node smt-kernels/matmul-bench.mjs [--quick] [--write]
 *   --quick  fewer repetitions (a smoke run)
 *   --write  also write smt-kernels/RESULTS.md
 *   --sparse-only  only the block-sparse section (no matmul peers)
 * SMT_ENTRY=<module> imports the backends from another module than the built `@dspy-ts/smt` package.
 */
import { writeFile } from 'node:fs/promises';
import os from 'node:os';

const args = new Set(process.argv.slice(2));
const quick = args.has('--quick');
const sparseOnly = args.has('--sparse-only');
const smt = await import(process.env.SMT_ENTRY ?? '@dspy-ts/smt');
const { createReferenceBackend, createWasmBackend, mulberry32, randomTensor } = smt;

const lines = [];
function out(line = '') {
  lines.push(line);
  console.log(line);
}

/** Median wall time in ms of `fn` over `runs` calls after `warmup` calls, stopping early past `budgetMs`. */
function timeMedian(fn, { warmup = 2, runs = 9, budgetMs = 4000 } = {}) {
  for (let i = 0; i < warmup; i++) fn();
  const times = [];
  const start = performance.now();
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    fn();
    times.push(performance.now() - t0);
    if (performance.now() - start > budgetMs && times.length >= 3) break;
  }
  times.sort((a, b) => a - b);
  return { ms: times[times.length >> 1], runs: times.length };
}

const gflops = (n, ms) => (2 * n ** 3) / (ms * 1e6);
const fmt = (x, digits = 1) => (Number.isFinite(x) ? x.toFixed(digits) : 'n/a');

// ---------------------------------------------------------------------------------------------------- peers
async function loadTfjsWasm(threads) {
  try {
    const tf = await import('@tensorflow/tfjs-core');
    const tfwasm = await import('@tensorflow/tfjs-backend-wasm');
    tfwasm.setThreadsCount?.(threads);
    await tf.setBackend('wasm');
    await tf.ready();
    const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
    const multithread = await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT');
    const actualThreads = tfwasm.getThreadsCount?.() ?? 1;
    return {
      label: `tfjs-backend-wasm ${tfwasm.version_wasm} (SIMD ${simd ? 'on' : 'off'}, threads ${actualThreads}${multithread ? '' : ', threaded build unavailable in Node'})`,
      prepare(n, seed) {
        const a = tf.tensor2d(randomTensor(n * n, seed), [n, n]);
        const b = tf.tensor2d(randomTensor(n * n, seed + 1), [n, n]);
        return {
          run: () => {
            const c = tf.matMul(a, b);
            c.dataSync();
            c.dispose();
          },
          dispose: () => {
            a.dispose();
            b.dispose();
          },
        };
      },
    };
  } catch (error) {
    return { label: `tfjs-backend-wasm skipped (${error.message})` };
  }
}

/** A minimal ONNX model computing C = A·B for float32 [n, n] inputs, protobuf-encoded by hand. */
function onnxMatMulModel(n) {
  const bytes = [];
  const varint = (v, to) => {
    while (v > 0x7f) {
      to.push((v & 0x7f) | 0x80);
      v >>>= 7;
    }
    to.push(v);
  };
  const field = (num, payload) => {
    const b = [];
    varint((num << 3) | 2, b);
    varint(payload.length, b);
    return [...b, ...payload];
  };
  const str = (s) => [...Buffer.from(s)];
  const intField = (num, v) => {
    const b = [];
    varint(num << 3, b);
    varint(v, b);
    return b;
  };
  const dim = field(1, intField(1, n)); // TensorShapeProto.Dimension{dim_value}
  const shape = field(2, [...dim, ...dim]); // TypeProto.Tensor.shape
  const tensorType = field(1, [...intField(1, 1), ...shape]); // TypeProto.tensor_type{elem_type FLOAT}
  const valueInfo = (name) => [...field(1, str(name)), ...field(2, tensorType)];
  const node = [...field(1, str('A')), ...field(1, str('B')), ...field(2, str('C')), ...field(4, str('MatMul'))];
  const graph = [
    ...field(1, node),
    ...field(2, str('matmul')),
    ...field(11, valueInfo('A')),
    ...field(11, valueInfo('B')),
    ...field(12, valueInfo('C')),
  ];
  bytes.push(...intField(1, 8)); // ir_version
  bytes.push(...field(7, graph));
  bytes.push(...field(8, [...field(1, []), ...intField(2, 13)])); // opset_import{domain "", version 13}
  return Uint8Array.from(bytes);
}

async function loadOnnxRuntime(threads) {
  let ort;
  try {
    ort = await import('onnxruntime-node');
  } catch {
    return { label: 'onnxruntime-node skipped (not installed)' };
  }
  const sessions = new Map();
  for (const n of [256, 512, 1024]) {
    sessions.set(
      n,
      await ort.InferenceSession.create(onnxMatMulModel(n), { intraOpNumThreads: threads, interOpNumThreads: 1 }),
    );
  }
  return {
    label: `onnxruntime-node (CPU EP, intraOpNumThreads ${threads})`,
    prepare(n, seed) {
      const session = sessions.get(n);
      const feeds = {
        A: new ort.Tensor('float32', randomTensor(n * n, seed), [n, n]),
        B: new ort.Tensor('float32', randomTensor(n * n, seed + 1), [n, n]),
      };
      let pending;
      return {
        // The session API is async; the median includes one promise round-trip per call.
        runAsync: async () => {
          pending = await session.run(feeds);
          return pending.C.data;
        },
        dispose: () => {},
      };
    },
  };
}

// ---------------------------------------------------------------------------------------------------- run
const cpus = os.cpus();
const command = `node smt-kernels/matmul-bench.mjs ${process.argv.slice(2).join(' ')}`.trim();
out('# `@dspy-ts/smt` kernel benchmark');
out();
out(`- Date: ${new Date().toISOString()}`);
out(
  `- Machine: ${cpus[0]?.model ?? 'unknown CPU'}, ${cpus.length} logical CPUs (os.availableParallelism() = ${os.availableParallelism()}), ${Math.round(os.totalmem() / 2 ** 30)} GiB RAM, ${os.type()} ${os.release()} ${os.arch()}`,
);
out(`- Runtime: Node ${process.version} (V8 ${process.versions.v8})`);
out(
  `- Command (in \`bench/\`): \`${command}\`${process.env.SMT_ENTRY ? ` with SMT_ENTRY=${process.env.SMT_ENTRY}` : ''}`,
);
out(
  '- Timing: matmul cells are medians (and min–max) of interleaved rounds — each round calls every fast peer once — after 2 warm-up calls each; the reference runs alone (1–3 calls). Block-sparse cells are medians of 15 interleaved rounds (one dense weight-gradient call, then five block-sparse calls) after warm-up. Matmul inputs are plain `Float32Array`s, which the wasm backend copies into its memory, and the result out, on every call; tfjs keeps its tensors resident and includes `dataSync()`. The block-sparse section measures both plain and resident inputs.',
);
out();

const reference = createReferenceBackend();
const wasm1 = await createWasmBackend({ threads: 1 });
const wasm2 = await createWasmBackend({ threads: 2 });
const tfjs = await loadTfjsWasm(2);
const ort = await loadOnnxRuntime(2);
const sizes = [256, 512, 1024];

function smtPeer(label, backend) {
  return {
    label,
    prepare(n, seed) {
      const a = randomTensor(n * n, seed);
      const b = randomTensor(n * n, seed + 1);
      return { run: () => backend.matmul(a, b, n, n, n), dispose: () => {} };
    },
  };
}

const peers = [
  smtPeer('smt reference (plain TypeScript, float64 accumulation)', reference),
  smtPeer(`smt wasm, 1 thread (${wasm1.variant})`, wasm1),
  smtPeer(`smt wasm, 2 threads (${wasm2.variant})`, wasm2),
  tfjs,
  ort,
];

if (!sparseOnly) {
  out('## Dense matmul C = A·B, square n×n (GFLOP/s = 2n³ / time)');
  out();
  out(`| backend | ${sizes.map((n) => `n=${n}`).join(' | ')} |`);
  out(`|---|${sizes.map(() => '---:').join('|')}|`);
  const results = new Map();
  const cells = new Map(peers.map((peer) => [peer.label, []]));
  for (const n of sizes) {
    // The reference is slow and measured alone; the fast peers are measured in interleaved rounds (one call each
    // per round), so load changes on a shared machine hit every peer alike instead of biasing one of them.
    const fast = [];
    for (const peer of peers) {
      if (!peer.prepare) continue;
      const job = peer.prepare(n, n);
      if (peer.label.startsWith('smt reference')) {
        const opts = { warmup: n >= 1024 ? 0 : 1, runs: n >= 1024 || quick ? 1 : 3, budgetMs: 1 };
        const { ms, runs } = timeMedian(job.run, opts);
        results.set(`${peer.label}@${n}`, ms);
        cells.get(peer.label).push(`${fmt(gflops(n, ms))} (${fmt(ms, 2)} ms${runs === 1 ? ', 1 run' : ''})`);
      } else {
        fast.push({ peer, job, times: [] });
      }
    }
    const call = async ({ job }) => (job.runAsync ? job.runAsync() : job.run());
    for (const entry of fast) for (let i = 0; i < 2; i++) await call(entry);
    const rounds = quick ? 3 : n >= 1024 ? 9 : 15;
    for (let r = 0; r < rounds; r++) {
      for (const entry of fast) {
        const t0 = performance.now();
        await call(entry);
        entry.times.push(performance.now() - t0);
      }
    }
    for (const { peer, job, times } of fast) {
      job.dispose();
      times.sort((a, b) => a - b);
      const ms = times[times.length >> 1];
      const spread = `${fmt(times[0], 2)}–${fmt(times[times.length - 1], 2)}`;
      results.set(`${peer.label}@${n}`, ms);
      cells.get(peer.label).push(`${fmt(gflops(n, ms))} (${fmt(ms, 2)} ms; ${spread})`);
    }
  }
  for (const peer of peers) {
    const row = peer.prepare ? cells.get(peer.label) : sizes.map(() => '–');
    out(`| ${peer.label} | ${row.join(' | ')} |`);
  }
  out();

  const tfLabel = tfjs.label;
  if (tfjs.prepare) {
    out('Ratios against tfjs-backend-wasm in this run (time_tfjs / time_smt; > 1 means smt is faster):');
    out();
    out(`| smt backend | ${sizes.map((n) => `n=${n}`).join(' | ')} |`);
    out(`|---|${sizes.map(() => '---:').join('|')}|`);
    for (const peer of peers.slice(1, 3)) {
      const cells = sizes.map((n) => `${fmt(results.get(`${tfLabel}@${n}`) / results.get(`${peer.label}@${n}`), 2)}×`);
      out(`| ${peer.label} | ${cells.join(' | ')} |`);
    }
    const ratio = results.get(`${tfLabel}@1024`) / results.get(`${peers[2].label}@1024`);
    out();
    out(
      `Target (wasm, 2 threads, n=1024 ≥ 1.5× tfjs-backend-wasm): **${ratio >= 1.5 ? 'met' : 'not met'}** (${fmt(ratio, 2)}×).`,
    );
    out();
  }
}

// ---------------------------------------------------------------------------------------------------- SMT
out('## Block-sparse weight gradient vs dense weight gradient');
out();
const m = 512;
const outDim = 1024;
const inDim = 1024;
const bs = 64;
const totalBlocks = (outDim / bs) * (inDim / bs);
const selected = Math.round(0.05 * totalBlocks);
const rng = mulberry32(5);
const keys = new Set();
while (keys.size < selected) keys.add(Math.floor(rng() * totalBlocks));
const blocks = [...keys].map((key) => ({ rowBlock: Math.floor(key / (inDim / bs)), colBlock: key % (inDim / bs) }));
const g = randomTensor(m * outDim, 6);
const x = randomTensor(m * inDim, 7);
out(
  `G [m=${m}, out=${outDim}], X [m=${m}, in=${inDim}], blocks ${bs}×${bs}: ${selected} of ${totalBlocks} selected (${fmt((100 * selected) / totalBlocks, 2)} %). Dense = \`matmul(G, X, out, m, in, { transA: true })\` (the full dW = Gᵀ·X); sparse = \`blockSparseWeightGrad\`. Target: sparse ≤ 1.5 × ${fmt((100 * selected) / totalBlocks, 2)} % of dense = ${fmt((150 * selected) / totalBlocks, 2)} % of the dense time.`,
);
out();
out(
  'Two ways to pass G and X: as plain `Float32Array`s, which the wasm backend copies into its memory on every call (4 MiB here, whatever the block count), or as resident arrays from `backend.allocate()`, which kernels read in place — as a training loop keeps its activations. Both the dense and the sparse call get the same kind of input in each row.',
);
out();
out('| backend | inputs | dense dW (ms) | block-sparse dS (ms) | sparse / dense | target met |');
out('|---|---|---:|---:|---:|---|');
const median = (times) => [...times].sort((a, b) => a - b)[times.length >> 1];
const limit = (1.5 * selected) / totalBlocks;
const residentCopy = (backend, data) => {
  const array = backend.allocate(data.length);
  array.set(data);
  return array;
};
const scalingRows = [];
for (const [label, backend] of [
  [`smt wasm, 1 thread`, wasm1],
  [`smt wasm, 2 threads`, wasm2],
]) {
  const rg = residentCopy(backend, g);
  const rx = residentCopy(backend, x);
  for (const [inputs, gIn, xIn] of [
    ['plain arrays (copied per call)', g, x],
    ['resident (`allocate()`)', rg, rx],
  ]) {
    // Dense and sparse calls are interleaved (one dense call, then five sparse ones, per round), so a change in
    // the machine's load hits both sides of the ratio alike; medians over all rounds.
    const denseCall = () => backend.matmul(gIn, xIn, outDim, m, inDim, { transA: true });
    const sparseCall = () => backend.blockSparseWeightGrad(gIn, xIn, m, outDim, inDim, blocks, bs);
    for (let i = 0; i < 2; i++) denseCall();
    for (let i = 0; i < 5; i++) sparseCall();
    const denseTimes = [];
    const sparseTimes = [];
    const rounds = quick ? 3 : 15;
    for (let round = 0; round < rounds; round++) {
      let t0 = performance.now();
      denseCall();
      denseTimes.push(performance.now() - t0);
      for (let i = 0; i < 5; i++) {
        t0 = performance.now();
        sparseCall();
        sparseTimes.push(performance.now() - t0);
      }
    }
    const dense = median(denseTimes);
    const sparse = median(sparseTimes);
    const ratio = sparse / dense;
    out(
      `| ${label} | ${inputs} | ${fmt(dense, 2)} | ${fmt(sparse, 3)} | ${fmt(100 * ratio, 2)} % | ${ratio <= limit ? 'yes' : 'no'} (≤ ${fmt(100 * limit, 2)} %) |`,
    );
  }
  // Time against block count (resident inputs): the first `count` of a fixed random order of all blocks.
  const order = [
    ...blocks,
    ...Array.from({ length: totalBlocks }, (_, key) => key)
      .filter((key) => !keys.has(key))
      .map((key) => ({ rowBlock: Math.floor(key / (inDim / bs)), colBlock: key % (inDim / bs) })),
  ];
  const cells = [];
  for (const count of [1, 4, 13, 26, 52]) {
    const subset = order.slice(0, count);
    const call = () => backend.blockSparseWeightGrad(rg, rx, m, outDim, inDim, subset, bs);
    for (let i = 0; i < 3; i++) call();
    const times = [];
    for (let i = 0; i < (quick ? 5 : 31); i++) {
      const t0 = performance.now();
      call();
      times.push(performance.now() - t0);
    }
    cells.push([count, median(times)]);
  }
  scalingRows.push([label, cells]);
  backend.release(rg);
  backend.release(rx);
}
out();
out(
  'Block-sparse time against the number of selected blocks (resident inputs; median ms; a least-squares line through the points gives the fixed cost per call and the cost per block):',
);
out();
out(
  `| backend | ${scalingRows[0][1].map(([count]) => `${count} block${count === 1 ? '' : 's'}`).join(' | ')} | fixed + per block |`,
);
out(`|---|${scalingRows[0][1].map(() => '---:').join('|')}|---|`);
for (const [label, cells] of scalingRows) {
  const n = cells.length;
  const mx = cells.reduce((s, [c]) => s + c, 0) / n;
  const my = cells.reduce((s, [, t]) => s + t, 0) / n;
  const slope =
    cells.reduce((s, [c, t]) => s + (c - mx) * (t - my), 0) / cells.reduce((s, [c]) => s + (c - mx) ** 2, 0);
  const intercept = my - slope * mx;
  out(
    `| ${label} | ${cells.map(([, t]) => fmt(t, 3)).join(' | ')} | ${fmt(intercept, 3)} ms + ${fmt(slope, 4)} ms × blocks |`,
  );
}
out();

await wasm1.dispose();
await wasm2.dispose();

if (args.has('--write')) {
  const file = new URL('./RESULTS.md', import.meta.url);
  await writeFile(file, `${lines.join('\n')}\n`);
  console.error(`wrote ${file.pathname}`);
}
