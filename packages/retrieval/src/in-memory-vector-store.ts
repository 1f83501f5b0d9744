import { checkK } from './corpus.ts';
import { RetrievalError, throwIfAborted } from './errors.ts';
import { type MetadataFilter, matchesFilter } from './metadata-filter.ts';
import { TopK } from './top-k.ts';
import { dot, normalizeInPlace, toFloat32, type VectorLike } from './vector-math.ts';
import type {
  VectorMatch,
  VectorMetric,
  VectorQueryOptions,
  VectorRecord,
  VectorStore,
  VectorUpsertOptions,
} from './vector-store.ts';

/** Options of {@link InMemoryVectorStore}. */
export interface InMemoryVectorStoreOptions {
  /** Vector length; when left out, the first upsert fixes it. */
  dimensions?: number;
  /** How vectors are compared. Default `cosine`. */
  metric?: VectorMetric;
}

/**
 * An exact, brute-force vector store held in process memory: every query compares against every stored vector, so
 * its results are the reference against which approximate indexes (HNSW) are measured. Vectors live in one
 * contiguous `Float32Array`; under `cosine` they are stored L2-normalised.
 *
 * @example
 * ```ts
 * const store = new InMemoryVectorStore({ dimensions: 3 });
 * await store.upsert([{ id: 'a', vector: [1, 0, 0], text: 'alpha' }]);
 * const [hit] = await store.query([0.9, 0.1, 0], { k: 1 });
 * ```
 */
export class InMemoryVectorStore implements VectorStore {
  /** How vectors are compared. */
  readonly metric: VectorMetric;
  private dims: number | undefined;
  private data = new Float32Array(0);
  private readonly ids: string[] = [];
  private readonly texts: string[] = [];
  private readonly metadata: Record<string, unknown>[] = [];
  private readonly rowOf = new Map<string, number>();
  private closed = false;

  constructor(options: InMemoryVectorStoreOptions = {}) {
    if (options.dimensions !== undefined && (!Number.isInteger(options.dimensions) || options.dimensions < 1)) {
      throw new RetrievalError(
        'invalid_argument',
        `InMemoryVectorStore: expected dimensions to be a positive integer, found ${String(options.dimensions)}.`,
      );
    }
    this.dims = options.dimensions;
    this.metric = options.metric ?? 'cosine';
  }

  /** Vector length, `undefined` until the first upsert when not given. */
  get dimensions(): number | undefined {
    return this.dims;
  }

  /** Inserts or replaces records by id. Every record is validated before any is written, so a bad batch writes nothing. */
  async upsert(records: readonly VectorRecord[], options: VectorUpsertOptions = {}): Promise<void> {
    this.checkOpen();
    throwIfAborted(options.signal, 'InMemoryVectorStore.upsert');
    const dims = this.dims ?? records[0]?.vector?.length;
    const prepared = records.map((record, i) => {
      if (typeof record?.id !== 'string') {
        throw new RetrievalError(
          'invalid_argument',
          `InMemoryVectorStore.upsert: expected records[${i}].id to be a string, found ${record === null ? 'null' : typeof record?.id}.`,
        );
      }
      const vector = toFloat32(
        record.vector,
        dims,
        'InMemoryVectorStore.upsert',
        `the vector of record "${record.id}"`,
      );
      if (this.metric === 'cosine')
        normalizeInPlace(vector, 'InMemoryVectorStore.upsert', `the vector of record "${record.id}"`);
      return { id: record.id, vector, text: record.text ?? '', metadata: structuredClone(record.metadata ?? {}) };
    });
    if (prepared.length === 0) return;
    this.dims = dims;
    for (const record of prepared) {
      let row = this.rowOf.get(record.id);
      if (row === undefined) {
        row = this.ids.length;
        this.ensureCapacity(row + 1);
        this.rowOf.set(record.id, row);
        this.ids.push(record.id);
        this.texts.push(record.text);
        this.metadata.push(record.metadata);
      } else {
        this.texts[row] = record.text;
        this.metadata[row] = record.metadata;
      }
      this.data.set(record.vector, row * dims!);
    }
  }

  /** Deletes records by id and returns how many existed. */
  async delete(ids: readonly string[]): Promise<number> {
    this.checkOpen();
    let deleted = 0;
    for (const id of ids) {
      const row = this.rowOf.get(id);
      if (row === undefined) continue;
      // Swap-remove keeps the vectors contiguous.
      const last = this.ids.length - 1;
      if (row !== last) {
        const dims = this.dims!;
        this.data.copyWithin(row * dims, last * dims, (last + 1) * dims);
        this.ids[row] = this.ids[last]!;
        this.texts[row] = this.texts[last]!;
        this.metadata[row] = this.metadata[last]!;
        this.rowOf.set(this.ids[row]!, row);
      }
      this.ids.pop();
      this.texts.pop();
      this.metadata.pop();
      this.rowOf.delete(id);
      deleted++;
    }
    return deleted;
  }

  /** The `k` most similar records, by comparing `vector` with every stored one. */
  async query(vector: VectorLike, options: VectorQueryOptions): Promise<VectorMatch[]> {
    this.checkOpen();
    throwIfAborted(options.signal, 'InMemoryVectorStore.query');
    const k = checkK(options.k, 'InMemoryVectorStore.query');
    if (this.ids.length === 0) return [];
    const dims = this.dims!;
    const q = toFloat32(vector, dims, 'InMemoryVectorStore.query', 'the query vector');
    if (this.metric === 'cosine') normalizeInPlace(q, 'InMemoryVectorStore.query', 'the query vector');
    const top = new TopK<number>(k);
    for (let row = 0; row < this.ids.length; row++) {
      if (options.filter !== undefined && !matchesFilter(this.metadata[row]!, options.filter)) continue;
      top.push(dot(q, this.data, row * dims), row);
    }
    return top.sorted().map(({ score, item: row }) => ({
      id: this.ids[row]!,
      score,
      text: this.texts[row]!,
      metadata: structuredClone(this.metadata[row]!),
    }));
  }

  /** Number of records, optionally only those matching `filter`. */
  async count(filter?: MetadataFilter): Promise<number> {
    this.checkOpen();
    if (filter === undefined) return this.ids.length;
    return this.metadata.filter((metadata) => matchesFilter(metadata, filter)).length;
  }

  /** Drops every record; later calls fail. */
  async close(): Promise<void> {
    this.closed = true;
    this.data = new Float32Array(0);
    this.ids.length = 0;
    this.texts.length = 0;
    this.metadata.length = 0;
    this.rowOf.clear();
  }

  private ensureCapacity(rows: number): void {
    const needed = rows * this.dims!;
    if (needed <= this.data.length) return;
    const grown = new Float32Array(Math.max(needed, this.data.length * 2, this.dims! * 64));
    grown.set(this.data);
    this.data = grown;
  }

  private checkOpen(): void {
    if (this.closed) {
      throw new RetrievalError(
        'invalid_argument',
        'InMemoryVectorStore: expected an open store, found one already closed.',
      );
    }
  }
}
