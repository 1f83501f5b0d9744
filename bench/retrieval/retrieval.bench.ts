/**
 * Retrieval benchmark: pgvector in embedded PGlite (ingestion rate, exact and HNSW queries/s, HNSW recall@10 against
 * exact search) and BM25 on a generated corpus (index build time, queries/s and top-10 agreement of `BM25Retriever`,
 * Lunr, and an exact BM25 over an inverted index written here as the ranking reference), all in one process.
 *
 *   node --conditions=@dspy-ts/source --import tsx bench/retrieval/retrieval.bench.ts [--vectors 100000] …
 *
 * Flags (defaults in brackets): --vectors [100000] --dims [384] --queries [100] --passages [50000]
 * --m [16] --ef-construction [64] --ef-search [40,100,200,400,800] --data [uniform,clustered] --only [bm25|vectors]
 * --rounds [5] (BM25 query passes per system) --build-rounds [3] (BM25 index builds per system)
 * --out <file to append a Markdown report to>.
 */
import { appendFile } from 'node:fs/promises';
import { availableParallelism, cpus, totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import { BM25Retriever, InMemoryVectorStore, PgVectorStore } from '@dspy-ts/retrieval';
import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';
import lunr from 'lunr';
import MiniSearch from 'minisearch';
import { dataset } from './data.ts';
import { DEFAULT_CORPUS, describeCorpus, textCorpus } from './text-corpus.ts';

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
    rounds: { type: 'string', default: '5' },
    'build-rounds': { type: 'string', default: '3' },
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
/** BM25 queries: ten times the vector queries. */
const QB = Q * 10;
const ROUNDS = Number(values.rounds);
const BUILD_ROUNDS = Number(values['build-rounds']);

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

/**
 * Exact Okapi BM25 over an inverted index (term → passages and term frequencies), the ranking reference:
 * `Σ idf · tf·(k1+1) / (tf + k1·(1 − b + b·len/avgLen))` with Lucene's IDF `ln(1 + (N − n + 0.5) / (n + 0.5))`, `len` a
 * passage's token count (or, as an option, its number of distinct terms), tokens split on spaces. Ties are broken by
 * passage order.
 */
class ExactBM25 {
  private readonly postings = new Map<string, { docs: Int32Array; tfs: Int32Array }>();
  /** Per passage: k1·(1 − b + b·len/avgLen). */
  private readonly norms: Float64Array;
  private readonly scores: Float64Array;
  private readonly touched: Int32Array;

  /** `length`: a passage's length in BM25's normalisation, its token count (textbook) or its number of distinct terms. */
  constructor(
    texts: readonly string[],
    readonly k1 = 0.9,
    readonly b = 0.4,
    length: 'tokens' | 'distinct' = 'tokens',
  ) {
    const lists = new Map<string, number[]>();
    const lengths = new Float64Array(texts.length);
    let total = 0;
    texts.forEach((text, doc) => {
      const tf = new Map<string, number>();
      const tokens = text.split(' ');
      for (const token of tokens) tf.set(token, (tf.get(token) ?? 0) + 1);
      lengths[doc] = length === 'tokens' ? tokens.length : tf.size;
      total += lengths[doc]!;
      for (const [term, f] of tf) {
        const list = lists.get(term);
        if (list) list.push(doc, f);
        else lists.set(term, [doc, f]);
      }
    });
    for (const [term, list] of lists) {
      const docs = new Int32Array(list.length / 2);
      const tfs = new Int32Array(list.length / 2);
      for (let i = 0; i < docs.length; i++) {
        docs[i] = list[2 * i]!;
        tfs[i] = list[2 * i + 1]!;
      }
      this.postings.set(term, { docs, tfs });
    }
    const avg = total / texts.length;
    this.norms = lengths.map((len) => k1 * (1 - b + (b * len) / avg));
    this.scores = new Float64Array(texts.length);
    this.touched = new Int32Array(texts.length);
  }

  /** Number of passages containing `term`. */
  df(term: string): number {
    return this.postings.get(term)?.docs.length ?? 0;
  }

  private idf(n: number): number {
    return Math.log(1 + (this.norms.length - n + 0.5) / (n + 0.5));
  }

  /** The `k` best passages for distinct query terms, best first, and the number of passages matching any term. */
  search(terms: readonly string[], k: number): { hits: { doc: number; score: number }[]; matched: number } {
    const { scores, touched, norms, k1 } = this;
    let matched = 0;
    for (const term of terms) {
      const list = this.postings.get(term);
      if (!list) continue;
      const idf = this.idf(list.docs.length);
      for (let i = 0; i < list.docs.length; i++) {
        const doc = list.docs[i]!;
        const tf = list.tfs[i]!;
        if (scores[doc] === 0) touched[matched++] = doc;
        scores[doc]! += (idf * tf * (k1 + 1)) / (tf + norms[doc]!);
      }
    }
    // Bounded insertion into the k best (score descending, then passage order), then reset the accumulators.
    const hits: { doc: number; score: number }[] = [];
    for (let i = 0; i < matched; i++) {
      const doc = touched[i]!;
      const score = scores[doc]!;
      scores[doc] = 0;
      if (hits.length === k) {
        const last = hits[k - 1]!;
        if (score < last.score || (score === last.score && doc > last.doc)) continue;
        hits.pop();
      }
      let at = hits.length;
      const worse = (hit: { doc: number; score: number }) =>
        hit.score < score || (hit.score === score && hit.doc > doc);
      while (at > 0 && worse(hits[at - 1]!)) at--;
      hits.splice(at, 0, { doc, score });
    }
    return { hits, matched };
  }

  /** The BM25 score of one passage (binary search in each posting list). */
  score(terms: readonly string[], doc: number): number {
    let score = 0;
    for (const term of terms) {
      const list = this.postings.get(term);
      if (!list) continue;
      let lo = 0;
      let hi = list.docs.length - 1;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (list.docs[mid]! < doc) lo = mid + 1;
        else hi = mid;
      }
      if (list.docs[lo] !== doc) continue;
      const tf = list.tfs[lo]!;
      score += (this.idf(list.docs.length) * tf * (this.k1 + 1)) / (tf + this.norms[doc]!);
    }
    return score;
  }
}

/** One BM25 implementation under test: how to build its index and how to ask it for the top k passage numbers. */
interface BM25System {
  name: string;
  parameters: string;
  build(texts: readonly string[]): unknown;
  search(index: unknown, terms: readonly string[], k: number): Promise<number[]> | number[];
}

const BM25_K1 = 0.9;
const BM25_B = 0.4;
/** Minimum length of a timed BM25 query pass, in milliseconds (estimated from the warm-up pass). */
const PASS_MS = 2000;

const BM25_SYSTEMS: BM25System[] = [
  {
    name: 'exact BM25 over an inverted index (reference, in this script)',
    parameters: `k1 = ${BM25_K1}, b = ${BM25_B}; len = tokens; split on spaces`,
    build: (texts) => new ExactBM25(texts, BM25_K1, BM25_B),
    search: (index, terms, k) => (index as ExactBM25).search(terms, k).hits.map((h) => h.doc),
  },
  {
    name: '`BM25Retriever` (MiniSearch 7)',
    parameters: `k1 = ${BM25_K1}, b = ${BM25_B}, δ = 0 (its defaults); len = distinct terms; MiniSearch's tokenizer`,
    build: (texts) => new BM25Retriever(texts, { k: K, k1: BM25_K1, b: BM25_B }),
    search: async (index, terms, k) =>
      (await (index as BM25Retriever).retrieve(terms.join(' '), { k })).map((h) => Number(h.id)),
  },
  {
    // The library BM25Retriever wraps, without the wrapper: shows what the wrapper costs. MiniSearch's own score is
    // BM25 times the number of query terms a passage matches (BM25Retriever divides that factor out again).
    name: 'MiniSearch 7 (used directly)',
    parameters: `bm25 k = ${BM25_K1}, b = ${BM25_B}, d = 0; len = distinct terms; score × matched query terms`,
    build: (texts) => {
      const index = new MiniSearch<{ row: number; text: string }>({
        idField: 'row',
        fields: ['text'],
        storeFields: [],
        searchOptions: { bm25: { k: BM25_K1, b: BM25_B, d: 0 } },
      });
      index.addAll(texts.map((text, row) => ({ row, text })));
      return index;
    },
    search: (index, terms, k) =>
      (index as MiniSearch)
        .search(terms.join(' '))
        .slice(0, k)
        .map((result) => result.id as number),
  },
  {
    name: 'Lunr 2 (used directly)',
    parameters: `k1 = ${BM25_K1}, b = ${BM25_B} (Lunr's defaults: 1.2, 0.75); len = tokens; no stemmer or stop-word filter; scores rounded to 3 decimals`,
    build: (texts) =>
      lunr(function () {
        // Lunr's default pipeline stems English and drops English stop words; the generated words are neither.
        this.pipeline.reset();
        this.searchPipeline.reset();
        this.k1(BM25_K1);
        this.b(BM25_B);
        this.ref('id');
        this.field('text');
        texts.forEach((text, id) => {
          this.add({ id: String(id), text });
        });
      }),
    search: (index, terms, k) =>
      (index as lunr.Index)
        .query((query) => {
          for (const term of terms) query.term(term, { usePipeline: false });
        })
        .slice(0, k)
        .map((result) => Number(result.ref)),
  },
];

const median = (xs: number[]) => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};
/** Median with the range, e.g. "12.3 (11.9–13.0)". */
const spread = (xs: number[], digits = 1) =>
  `${fmt(median(xs), digits)} (${fmt(Math.min(...xs), digits)}–${fmt(Math.max(...xs), digits)})`;
const quantile = (sorted: number[], q: number) => sorted[Math.floor(q * (sorted.length - 1))]!;

async function bm25Bench(): Promise<void> {
  const corpus = textCorpus(P, QB);
  const { passages: texts, queries } = corpus;
  log(`### BM25: ${P.toLocaleString('en-US')} generated passages, ${QB.toLocaleString('en-US')} queries, k = ${K}`);
  log('');
  log(`Corpus: ${describeCorpus(DEFAULT_CORPUS)} (\`text-corpus.ts\`, seed 3).`);
  log('');

  // Shape of the generated text, measured with the reference index.
  const reference = new ExactBM25(texts, BM25_K1, BM25_B);
  const stopwords = new Set(corpus.vocabulary.slice(0, DEFAULT_CORPUS.stopwords));
  let tokens = 0;
  let stopTokens = 0;
  const used = new Set<string>();
  for (const text of texts) {
    for (const token of text.split(' ')) {
      tokens++;
      if (stopwords.has(token)) stopTokens++;
      used.add(token);
    }
  }
  const termDf = queries
    .flat()
    .map((t) => reference.df(t))
    .sort((a, b) => a - b);
  const matched = queries.map((terms) => reference.search(terms, K).matched).sort((a, b) => a - b);
  const postings = queries.map((terms) => terms.reduce((s, t) => s + reference.df(t), 0)).sort((a, b) => a - b);
  const headDf = [...stopwords].map((t) => reference.df(t)).sort((a, b) => a - b);
  const queryLengths = queries.map((q) => q.length);
  log('| corpus statistic | value |');
  log('|---|---|');
  log(
    `| tokens, mean passage length | ${tokens.toLocaleString('en-US')}, ${fmt(tokens / P)} tokens (${Math.min(...texts.map((t) => t.split(' ').length))}–${Math.max(...texts.map((t) => t.split(' ').length))}) |`,
  );
  log(
    `| distinct terms in the passages | ${used.size.toLocaleString('en-US')} (${fmt((100 * stopTokens) / tokens)} % of tokens are the ${stopwords.size} stop words) |`,
  );
  log(
    `| passages containing a stop word, median (min–max) | ${quantile(headDf, 0.5).toLocaleString('en-US')} (${headDf[0]!.toLocaleString('en-US')}–${headDf.at(-1)!.toLocaleString('en-US')}) |`,
  );
  log(`| query length, mean | ${fmt(queryLengths.reduce((a, b) => a + b, 0) / queries.length, 2)} terms |`);
  const int = (x: number) => x.toLocaleString('en-US');
  const percentiles = (sorted: number[]) =>
    `${int(quantile(sorted, 0.5))} / ${int(quantile(sorted, 0.9))} / ${int(sorted.at(-1)!)}`;
  log(
    `| passages containing a query term: median / p90 / max | ${percentiles(termDf)} (${int(termDf.filter((d) => d === 0).length)} of ${int(termDf.length)} terms in no passage) |`,
  );
  log(`| postings per query (sum over its terms): median / p90 / max | ${percentiles(postings)} |`);
  log(
    `| passages matching at least one query term: median / p90 / max | ${percentiles(matched)} (${fmt((100 * quantile(matched, 0.5)) / P)} % of the corpus at the median) |`,
  );
  log('');

  // Index builds, interleaved: every round builds each system once, in a rotated order.
  const buildMs = BM25_SYSTEMS.map(() => [] as number[]);
  const indexes: unknown[] = BM25_SYSTEMS.map(() => undefined);
  for (let round = 0; round < BUILD_ROUNDS; round++) {
    for (let j = 0; j < BM25_SYSTEMS.length; j++) {
      const s = (round + j) % BM25_SYSTEMS.length;
      indexes[s] = undefined; // let the previous index go before building the next one
      const start = performance.now();
      indexes[s] = BM25_SYSTEMS[s]!.build(texts);
      buildMs[s]!.push(performance.now() - start);
    }
  }

  // One untimed pass per system (warm-up) gives the rankings compared with the reference.
  // Fast systems repeat the query set so that a timed pass lasts about PASS_MS: timer and scheduling noise then stays
  // small against it.
  const rankings: number[][][] = [];
  const repeats: number[] = [];
  for (const [s, system] of BM25_SYSTEMS.entries()) {
    const ranked: number[][] = [];
    const start = performance.now();
    for (const terms of queries) ranked.push(await system.search(indexes[s], terms, K));
    repeats.push(Math.max(1, Math.ceil(PASS_MS / (performance.now() - start))));
    rankings.push(ranked);
  }

  // Query passes, interleaved the same way.
  const qps = BM25_SYSTEMS.map(() => [] as number[]);
  for (let round = 0; round < ROUNDS; round++) {
    for (let j = 0; j < BM25_SYSTEMS.length; j++) {
      const s = (round + j) % BM25_SYSTEMS.length;
      const system = BM25_SYSTEMS[s]!;
      const start = performance.now();
      for (let r = 0; r < repeats[s]!; r++) for (const terms of queries) await system.search(indexes[s], terms, K);
      qps[s]!.push((repeats[s]! * queries.length) / ((performance.now() - start) / 1000));
    }
  }

  log(
    `| system | parameters | index build, s | queries/s | vs \`BM25Retriever\` (medians) | overlap@10 with the reference (by id) | overlap@10 (ties counted) |`,
  );
  log('|---|---|---|---|---|---|---|');
  const retriever = BM25_SYSTEMS.findIndex((system) => system.name.includes('BM25Retriever'));
  const retrieverQps = median(qps[retriever]!);
  /** Overlap@10 of a ranking with an exact reference's, by id and with passages that tie its 10th score counted. */
  const agreement = (ranking: number[][], exact: ExactBM25) => {
    let byId = 0;
    let withTies = 0;
    let expected = 0;
    for (const [q, terms] of queries.entries()) {
      const hits = exact.search(terms, K).hits;
      expected += hits.length;
      if (hits.length === 0) continue;
      const ids = new Set(hits.map((h) => h.doc));
      const kth = hits.at(-1)!.score;
      for (const doc of ranking[q]!) {
        if (ids.has(doc)) {
          byId++;
          withTies++;
        } else if (hits.length === K && exact.score(terms, doc) >= kth - 1e-9 * Math.max(1, kth)) {
          // A passage whose exact score ties the 10th is as good an answer as the one the reference kept.
          withTies++;
        }
      }
    }
    return { byId: byId / expected, withTies: withTies / expected };
  };
  for (const [s, system] of BM25_SYSTEMS.entries()) {
    const { byId, withTies } = agreement(rankings[s]!, reference);
    const build = spread(
      buildMs[s]!.map((ms) => ms / 1000),
      2,
    );
    log(
      `| ${system.name} | ${system.parameters} | ${build} | ${spread(qps[s]!)} | ${fmt(median(qps[s]!) / retrieverQps, 2)}× | ${fmt(byId, 3)} | ${fmt(withTies, 3)} |`,
    );
  }
  log('');
  const times = repeats.map((r) => r.toLocaleString('en-US')).join(' / ');
  log(
    `Medians with min–max over ${BUILD_ROUNDS} interleaved index builds and ${ROUNDS} interleaved passes over the ` +
      `${QB.toLocaleString('en-US')} queries (each round runs every system once, in a rotated order), after one ` +
      `untimed pass per system; a pass repeats the query set ${times} times (systems in table order) so that it ` +
      `lasts about ${PASS_MS / 1000} s or more. Overlap@10: share of the reference's top 10 (fewer when fewer ` +
      `passages match) that a system also returns in its top 10.`,
  );
  log('');
  // MiniSearch normalises by a passage's number of distinct terms; against the same exact BM25 with that length the
  // remaining disagreement is BM25Retriever's own.
  const distinct = new ExactBM25(texts, BM25_K1, BM25_B, 'distinct');
  const check = agreement(rankings[retriever]!, distinct);
  log(
    `Against the exact BM25 with len = a passage's distinct terms (MiniSearch's length), \`BM25Retriever\`'s ` +
      `overlap@10 is ${fmt(check.byId, 3)} by id, ${fmt(check.withTies, 3)} with ties counted.`,
  );
  log('');
}

const started = new Date();
log(`## Run of ${started.toISOString()}`);
log('');
const flags =
  values.only === 'bm25'
    ? `--only bm25 --queries ${Q} --passages ${P} --rounds ${ROUNDS} --build-rounds ${BUILD_ROUNDS}`
    : `--vectors ${N} --dims ${D} --queries ${Q} --passages ${P} --m ${M} --ef-construction ${EF_CONSTRUCTION} ` +
      `--ef-search ${EF_SEARCH.join(',')} --data ${DATA.join(',')}` +
      (values.only === 'vectors' ? '' : ` --rounds ${ROUNDS} --build-rounds ${BUILD_ROUNDS}`);
log(
  `Node ${process.version}, ${cpus()[0]?.model ?? 'unknown CPU'} (${availableParallelism()} cores available), ` +
    `${Math.round(totalmem() / 2 ** 30)} GiB RAM. Flags: ${flags}.`,
);
log('');
if (values.only !== 'vectors') await bm25Bench();
if (values.only !== 'bm25') for (const name of DATA) await vectorBench(name);
if (values.out) await appendFile(values.out, `${report.join('\n')}\n`);
