/**
 * Retrieval benchmark: pgvector in embedded PGlite (ingestion rate, exact and HNSW queries/s, HNSW recall@10 against
 * exact search) and BM25 queries/s against a brute-force in-memory BM25 scan, all in one process.
 *
 *   node --conditions=@dspy-ts/source --import tsx bench/retrieval/retrieval.bench.ts [--vectors 100000] …
 *
 * Flags (defaults in brackets): --vectors [100000] --dims [384] --queries [100] --passages [50000]
 * --m [16] --ef-construction [64] --ef-search [40,100] --only [bm25|vectors] --out <file to append a Markdown report to>.
 */
import { appendFile } from 'node:fs/promises';
import { availableParallelism, cpus, totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import { BM25Retriever, InMemoryVectorStore, PgVectorStore } from '@dspy-ts/retrieval';
import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';

const { values } = parseArgs({
  options: {
    vectors: { type: 'string', default: '100000' },
    dims: { type: 'string', default: '384' },
    queries: { type: 'string', default: '100' },
    passages: { type: 'string', default: '50000' },
    m: { type: 'string', default: '16' },
    'ef-construction': { type: 'string', default: '64' },
    'ef-search': { type: 'string', default: '40,100' },
    out: { type: 'string' },
    only: { type: 'string' },
  },
});
const N = Number(values.vectors);
const D = Number(values.dims);
const Q = Number(values.queries);
const P = Number(values.passages);
const M = Number(values.m);
const EF_CONSTRUCTION = Number(values['ef-construction']);
const EF_SEARCH = values['ef-search']!.split(',').map(Number);
const K = 10;

const report: string[] = [];
function log(line: string): void {
  console.log(line);
  report.push(line);
}

/** Seeded PRNG (mulberry32) so every run sees the same data. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Unit vectors with Gaussian components (Box–Muller), i.e. uniform on the sphere. */
function unitVectors(n: number, dims: number, seed: number): Float32Array[] {
  const next = random(seed);
  return Array.from({ length: n }, () => {
    const v = new Float32Array(dims);
    let norm = 0;
    for (let i = 0; i < dims; i++) {
      const g = Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next());
      v[i] = g;
      norm += g * g;
    }
    norm = Math.sqrt(norm);
    for (let i = 0; i < dims; i++) v[i]! /= norm;
    return v;
  });
}

async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const start = performance.now();
  const value = await fn();
  return { value, ms: performance.now() - start };
}

const fmt = (x: number, digits = 1) =>
  x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

async function vectorBench(): Promise<void> {
  log(
    `### pgvector in PGlite: ${N.toLocaleString('en-US')} random unit vectors, ${D} dimensions, ${Q} queries, k = ${K}`,
  );
  log('');
  const data = unitVectors(N, D, 1);
  const queries = unitVectors(Q, D, 2);

  const db = await PGlite.create({ extensions: { vector } });
  // The HNSW build keeps its graph in maintenance_work_mem; a graph that does not fit is built far more slowly.
  await db.exec(`SET maintenance_work_mem = '1GB'`);
  const store = await PgVectorStore.open({ dimensions: D, pglite: db, table: 'bench_vectors', metric: 'cosine' });

  const batch = 1000;
  const ingest = await timed(async () => {
    for (let start = 0; start < N; start += batch) {
      await store.upsert(data.slice(start, start + batch).map((v, i) => ({ id: String(start + i), vector: v })));
    }
  });
  log('| measurement | value |');
  log('|---|---|');
  log(
    `| ingestion (upsert, ${batch} rows per transaction) | ${fmt(N / (ingest.ms / 1000), 0)} vectors/s (${fmt(ingest.ms / 1000)} s) |`,
  );

  const memory = new InMemoryVectorStore({ dimensions: D, metric: 'cosine' });
  await memory.upsert(data.map((v, i) => ({ id: String(i), vector: v })));
  const truth: string[][] = [];
  const memoryRun = await timed(async () => {
    for (const q of queries) truth.push((await memory.query(q, { k: K })).map((h) => h.id));
  });
  log(`| in-memory brute force (recall reference) | ${fmt(Q / (memoryRun.ms / 1000))} queries/s |`);

  let exactAgree = 0;
  const exactRun = await timed(async () => {
    for (const [i, q] of queries.entries()) {
      const ids = (await store.query(q, { k: K })).map((h) => h.id);
      exactAgree += ids.filter((id) => truth[i]!.includes(id)).length;
    }
  });
  log(
    `| PGlite exact (sequential scan) | ${fmt(Q / (exactRun.ms / 1000))} queries/s, recall@10 ${fmt(exactAgree / (Q * K), 3)} |`,
  );

  const build = await timed(() => store.createIndex({ m: M, efConstruction: EF_CONSTRUCTION }));
  log(
    `| HNSW build (m = ${M}, ef_construction = ${EF_CONSTRUCTION}) | ${fmt(build.ms / 1000)} s (${fmt(N / (build.ms / 1000), 0)} vectors/s) |`,
  );

  for (const ef of EF_SEARCH) {
    await db.exec(`SET hnsw.ef_search = ${ef}`);
    let found = 0;
    const run = await timed(async () => {
      for (const [i, q] of queries.entries()) {
        const ids = (await store.query(q, { k: K })).map((h) => h.id);
        found += ids.filter((id) => truth[i]!.includes(id)).length;
      }
    });
    log(
      `| PGlite HNSW, ef_search = ${ef} | ${fmt(Q / (run.ms / 1000))} queries/s, recall@10 ${fmt(found / (Q * K), 3)} (${fmt(exactRun.ms / run.ms)}× exact) |`,
    );
  }
  log('');
  await store.close();
  await memory.close();
  await db.close();
}

/** Textbook BM25 by scanning every passage: the baseline BM25Retriever's inverted index should beat. */
class ScanBM25 {
  private readonly docs: Map<string, number>[];
  private readonly lengths: number[];
  private readonly df = new Map<string, number>();
  private readonly avg: number;
  constructor(
    texts: string[],
    private readonly k1 = 0.9,
    private readonly b = 0.4,
  ) {
    this.docs = texts.map((text) => {
      const tf = new Map<string, number>();
      for (const term of text.split(' ')) tf.set(term, (tf.get(term) ?? 0) + 1);
      for (const term of tf.keys()) this.df.set(term, (this.df.get(term) ?? 0) + 1);
      return tf;
    });
    this.lengths = this.docs.map((tf) => tf.size);
    this.avg = this.lengths.reduce((a, b) => a + b, 0) / this.lengths.length;
  }
  search(query: string, k: number): number[] {
    const terms = [...new Set(query.split(' '))];
    const idf = terms.map((t) => {
      const n = this.df.get(t) ?? 0;
      return Math.log(1 + (this.docs.length - n + 0.5) / (n + 0.5));
    });
    const scored: { i: number; s: number }[] = [];
    this.docs.forEach((tf, i) => {
      let s = 0;
      terms.forEach((t, j) => {
        const f = tf.get(t);
        if (f)
          s += (idf[j]! * f * (this.k1 + 1)) / (f + this.k1 * (1 - this.b + (this.b * this.lengths[i]!) / this.avg));
      });
      if (s > 0) scored.push({ i, s });
    });
    return scored
      .sort((x, y) => y.s - x.s || x.i - y.i)
      .slice(0, k)
      .map((x) => x.i);
  }
}

async function bm25Bench(): Promise<void> {
  log(`### BM25: ${P.toLocaleString('en-US')} generated passages, ${Q * 10} queries, k = ${K}`);
  log('');
  const next = random(3);
  // A Zipf-distributed vocabulary of 30,000 pseudo-words, like natural text's long tail.
  const vocabulary = Array.from({ length: 30_000 }, (_, i) => `w${i.toString(36)}`);
  const harmonic: number[] = [];
  let total = 0;
  for (let r = 1; r <= vocabulary.length; r++) {
    total += 1 / r;
    harmonic.push(total);
  }
  const word = () => {
    const target = next() * total;
    let lo = 0;
    let hi = harmonic.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (harmonic[mid]! < target) lo = mid + 1;
      else hi = mid;
    }
    return vocabulary[lo]!;
  };
  const texts = Array.from({ length: P }, () => Array.from({ length: 30 + Math.floor(next() * 50) }, word).join(' '));
  const queries = Array.from({ length: Q * 10 }, () => {
    const words = texts[Math.floor(next() * P)]!.split(' ');
    return Array.from({ length: 4 }, () => words[Math.floor(next() * words.length)]!).join(' ');
  });

  const indexRun = await timed(async () => new BM25Retriever(texts, { k: K }));
  const bm25 = indexRun.value;
  const scan = new ScanBM25(texts);
  log('| measurement | value |');
  log('|---|---|');
  log(`| BM25Retriever indexing (MiniSearch) | ${fmt(P / (indexRun.ms / 1000), 0)} passages/s |`);

  const retrieved: string[][] = [];
  const fast = await timed(async () => {
    for (const q of queries) retrieved.push((await bm25.retrieve(q)).map((h) => h.id!.toString()));
  });
  let agree = 0;
  const slow = await timed(async () => {
    for (const [i, q] of queries.entries()) {
      const ids = scan.search(q, K).map(String);
      agree += ids.filter((id) => retrieved[i]!.includes(id)).length;
    }
  });
  log(`| BM25Retriever | ${fmt(queries.length / (fast.ms / 1000))} queries/s |`);
  log(`| in-memory BM25 scan over every passage (baseline) | ${fmt(queries.length / (slow.ms / 1000))} queries/s |`);
  log(`| speed-up | ${fmt(slow.ms / fast.ms)}× |`);
  log(`| top-10 overlap with the baseline | ${fmt(agree / (queries.length * K), 3)} |`);
  log('');
}

const started = new Date();
log(`## Run of ${started.toISOString()}`);
log('');
log(
  `Node ${process.version}, ${cpus()[0]?.model ?? 'unknown CPU'} (${availableParallelism()} cores available), ` +
    `${Math.round(totalmem() / 2 ** 30)} GiB RAM. Flags: --vectors ${N} --dims ${D} --queries ${Q} --passages ${P} ` +
    `--m ${M} --ef-construction ${EF_CONSTRUCTION} --ef-search ${EF_SEARCH.join(',')}.`,
);
log('');
if (values.only !== 'vectors') await bm25Bench();
if (values.only !== 'bm25') await vectorBench();
if (values.out) await appendFile(values.out, `${report.join('\n')}\n`);
