/**
 * Retrieval benchmark: pgvector in embedded PGlite (ingestion rate, exact and HNSW queries/s, HNSW recall@10 against
 * exact search) and BM25 queries/s against a brute-force in-memory BM25 scan, all in one process.
 *
 *   node --conditions=@dspy-ts/source --import tsx bench/retrieval/retrieval.bench.ts [--vectors 100000] …
 *
 * Flags (defaults in brackets): --vectors [100000] --dims [384] --queries [100] --passages [50000]
 * --m [16] --ef-construction [64] --ef-search [40,100,200,400,800] --data [uniform,clustered] --only [bm25|vectors]
 * --out <file to append a Markdown report to>.
 */
import { appendFile } from 'node:fs/promises';
import { availableParallelism, cpus, totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import { BM25Retriever, InMemoryVectorStore, PgVectorStore } from '@dspy-ts/retrieval';
import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import { dataset, random } from './data.ts';

const { values } = parseArgs({
  options: {
    vectors: { type: 'string', default: '100000' },
    dims: { type: 'string', default: '384' },
    queries: { type: 'string', default: '100' },
    passages: { type: 'string', default: '50000' },
    m: { type: 'string', default: '16' },
    'ef-construction': { type: 'string', default: '64' },
    'ef-search': { type: 'string', default: '40,100,200,400,800' },
    data: { type: 'string', default: 'uniform,clustered' },
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
const DATA = values.data!.split(',');
const K = 10;

const report: string[] = [];
function log(line: string): void {
  console.log(line);
  report.push(line);
}

/** Recall of one query's hits against the exact top k: by id, and counting a hit whose similarity ties the k-th. */
function overlap(
  hits: { id: string; score: number }[],
  truth: { ids: Set<string>; kth: number },
): { byId: number; withTies: number } {
  let byId = 0;
  let withTies = 0;
  for (const hit of hits) {
    if (truth.ids.has(hit.id)) {
      byId++;
      withTies++;
    } else if (hit.score >= truth.kth - 1e-6) {
      // Float rounding (pgvector in float32/float64 vs JS) can order near-equal neighbours differently.
      withTies++;
    }
  }
  return { byId, withTies };
}

async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const start = performance.now();
  const value = await fn();
  return { value, ms: performance.now() - start };
}

const fmt = (x: number, digits = 1) =>
  x.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

/** The scan a plan runs: the HNSW index, or an exact sequential scan. */
function planKind(plan: string): string {
  if (/Index Scan using \w+_hnsw_/.test(plan)) return 'HNSW index scan';
  if (/Seq Scan/.test(plan)) return 'seq scan';
  return plan.split('\n')[1]?.trim() ?? plan;
}

async function vectorBench(name: string): Promise<void> {
  const { data, queries, description } = dataset(name, N, Q, D);
  log(`### pgvector in PGlite: ${N.toLocaleString('en-US')} ${description}, ${D} dimensions, ${Q} queries, k = ${K}`);
  log('');

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
  const truth: { ids: Set<string>; kth: number }[] = [];
  const memoryRun = await timed(async () => {
    for (const q of queries) {
      const hits = await memory.query(q, { k: K });
      truth.push({ ids: new Set(hits.map((h) => h.id)), kth: hits[K - 1]!.score });
    }
  });
  log(`| in-memory brute force (recall reference) | ${fmt(Q / (memoryRun.ms / 1000))} queries/s |`);

  let exactFound = 0;
  const exactRun = await timed(async () => {
    for (const [i, q] of queries.entries()) exactFound += overlap(await store.query(q, { k: K }), truth[i]!).byId;
  });
  log(
    `| PGlite exact (plan: ${planKind(await store.explain(queries[0]!, { k: K }))}) | ${fmt(Q / (exactRun.ms / 1000))} queries/s, recall@10 ${fmt(exactFound / (Q * K), 3)} |`,
  );

  const build = await timed(() => store.createIndex({ m: M, efConstruction: EF_CONSTRUCTION }));
  log(
    `| HNSW build (m = ${M}, ef_construction = ${EF_CONSTRUCTION}) | ${fmt(build.ms / 1000)} s (${fmt(N / (build.ms / 1000), 0)} vectors/s) |`,
  );
  log('');

  log(
    "| ef_search | planner's own choice | queries/s (HNSW) | vs exact | recall@10 (by id) | recall@10 (ties counted) |",
  );
  log('|---|---|---|---|---|---|');
  for (const ef of EF_SEARCH) {
    // The planner's choice under this ef_search: on small tables and large ef_search it estimates a sequential scan
    // (exact) to be cheaper, which would report recall 1.000 for a scan that never touched the index.
    await db.exec('RESET enable_seqscan');
    const natural = planKind(await store.explain(queries[0]!, { k: K, efSearch: ef }));
    // Measure the index itself: no sequential scan for the rest of this ef_search.
    await db.exec('SET enable_seqscan = off');
    const forced = planKind(await store.explain(queries[0]!, { k: K, efSearch: ef }));
    if (forced !== 'HNSW index scan')
      throw new Error(`expected an HNSW index scan at ef_search ${ef}, found ${forced}`);
    let byId = 0;
    let withTies = 0;
    const run = await timed(async () => {
      for (const [i, q] of queries.entries()) {
        const found = overlap(await store.query(q, { k: K, efSearch: ef }), truth[i]!);
        byId += found.byId;
        withTies += found.withTies;
      }
    });
    log(
      `| ${ef} | ${natural} | ${fmt(Q / (run.ms / 1000))} | ${fmt(exactRun.ms / run.ms)}× | ${fmt(byId / (Q * K), 3)} | ${fmt(withTies / (Q * K), 3)} |`,
    );
  }
  await db.exec('RESET enable_seqscan');
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
    `--m ${M} --ef-construction ${EF_CONSTRUCTION} --ef-search ${EF_SEARCH.join(',')} --data ${DATA.join(',')}.`,
);
log('');
if (values.only !== 'vectors') await bm25Bench();
if (values.only !== 'bm25') for (const name of DATA) await vectorBench(name);
if (values.out) await appendFile(values.out, `${report.join('\n')}\n`);
