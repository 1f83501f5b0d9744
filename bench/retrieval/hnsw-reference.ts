/**
 * An independent HNSW (Malkov & Yashunin 2018: layered graph, greedy descent, heuristic neighbour selection, 2·m
 * links on layer 0, m above; the algorithm pgvector and hnswlib implement), in plain TypeScript, run on the same
 * seeded data as `retrieval.bench.ts`. It answers one question: is pgvector's recall at given (m, ef_construction,
 * ef_search) what HNSW gives on this data, or lower (a defect in the store or the extension)?
 *
 *   node --import tsx bench/retrieval/hnsw-reference.ts --vectors 20000 --m 32 --ef-construction 128 --data uniform
 *
 * Flags: --vectors [5000] --dims [384] --queries [50] --m [16] --ef-construction [64] --ef-search [40,100,200,400,800]
 * --data [uniform,clustered]. Slow (one core, no SIMD); meant for up to a few tens of thousands of vectors.
 */
import { parseArgs } from 'node:util';
import { dataset, random } from './data.ts';

const { values } = parseArgs({
  options: {
    vectors: { type: 'string', default: '5000' },
    dims: { type: 'string', default: '384' },
    queries: { type: 'string', default: '50' },
    m: { type: 'string', default: '16' },
    'ef-construction': { type: 'string', default: '64' },
    'ef-search': { type: 'string', default: '40,100,200,400,800' },
    data: { type: 'string', default: 'uniform,clustered' },
  },
});
const N = Number(values.vectors);
const D = Number(values.dims);
const Q = Number(values.queries);
const M = Number(values.m);
const EF_CONSTRUCTION = Number(values['ef-construction']);
const K = 10;

type Candidate = [distance: number, id: number];

function run(name: string): void {
  const { data, queries, description } = dataset(name, N, Q, D);
  const distance = (a: Float32Array, b: Float32Array) => {
    let s = 0;
    for (let i = 0; i < D; i++) s += a[i]! * b[i]!;
    return 1 - s; // cosine distance of unit vectors
  };
  const links: number[][][] = []; // links[node][layer]
  let entry = -1;
  let top = -1;

  const insertSorted = (list: Candidate[], item: Candidate) => {
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (list[mid]![0] < item[0]) lo = mid + 1;
      else hi = mid;
    }
    list.splice(lo, 0, item);
  };
  const searchLayer = (q: Float32Array, entries: number[], ef: number, layer: number): Candidate[] => {
    const visited = new Set(entries);
    const candidates: Candidate[] = entries
      .map((e) => [distance(q, data[e]!), e] as Candidate)
      .sort((a, b) => a[0] - b[0]);
    const found = candidates.slice();
    while (candidates.length > 0) {
      const [d, c] = candidates.shift()!;
      if (found.length >= ef && d > found[found.length - 1]![0]) break;
      for (const e of links[c]![layer] ?? []) {
        if (visited.has(e)) continue;
        visited.add(e);
        const de = distance(q, data[e]!);
        if (found.length < ef || de < found[found.length - 1]![0]) {
          insertSorted(candidates, [de, e]);
          insertSorted(found, [de, e]);
          if (found.length > ef) found.pop();
        }
      }
    }
    return found;
  };
  // Heuristic selection: keep a candidate only if it is closer to the base than to every neighbour kept so far.
  const select = (sorted: Candidate[], m: number): number[] => {
    const kept: number[] = [];
    for (const [d, e] of sorted) {
      if (kept.length >= m) break;
      if (kept.every((k) => distance(data[e]!, data[k]!) > d)) kept.push(e);
    }
    return kept;
  };

  const levels = random(42);
  const start = performance.now();
  for (let i = 0; i < N; i++) {
    const level = Math.floor(-Math.log(1 - levels()) / Math.log(M));
    links[i] = Array.from({ length: level + 1 }, () => []);
    if (entry < 0) {
      entry = i;
      top = level;
      continue;
    }
    let entries = [entry];
    for (let layer = top; layer > level; layer--) entries = [searchLayer(data[i]!, entries, 1, layer)[0]![1]];
    for (let layer = Math.min(top, level); layer >= 0; layer--) {
      const found = searchLayer(data[i]!, entries, EF_CONSTRUCTION, layer);
      const max = layer === 0 ? 2 * M : M;
      links[i]![layer] = select(found, M);
      for (const e of links[i]![layer]!) {
        const list = links[e]![layer]!;
        list.push(i);
        if (list.length > max) {
          const sorted = list.map((x) => [distance(data[e]!, data[x]!), x] as Candidate).sort((a, b) => a[0] - b[0]);
          links[e]![layer] = select(sorted, max);
        }
      }
      entries = found.map(([, id]) => id);
    }
    if (level > top) {
      top = level;
      entry = i;
    }
  }
  console.log(
    `${N} ${description}, ${D} dimensions: reference HNSW built in ${((performance.now() - start) / 1000).toFixed(1)} s (m = ${M}, ef_construction = ${EF_CONSTRUCTION})`,
  );
  const truth = queries.map((q) =>
    data
      .map((v, i) => [distance(q, v), i] as Candidate)
      .sort((a, b) => a[0] - b[0])
      .slice(0, K)
      .map(([, id]) => id),
  );
  for (const ef of values['ef-search']!.split(',').map(Number)) {
    let found = 0;
    queries.forEach((q, i) => {
      let entries = [entry];
      for (let layer = top; layer > 0; layer--) entries = [searchLayer(q, entries, 1, layer)[0]![1]];
      const ids = searchLayer(q, entries, Math.max(ef, K), 0)
        .slice(0, K)
        .map(([, id]) => id);
      found += ids.filter((id) => truth[i]!.includes(id)).length;
    });
    console.log(`  ef_search = ${ef}: recall@${K} ${(found / (Q * K)).toFixed(3)}`);
  }
}

for (const name of values.data!.split(',')) run(name);
