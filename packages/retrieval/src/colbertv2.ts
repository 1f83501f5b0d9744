import type { RetrievedPassage, RetrieveOptions, Retriever } from '@dspy-ts/core';
import { checkK } from './corpus.ts';
import { RetrievalError, throwIfAborted } from './errors.ts';

/** Options of {@link ColBERTv2}. */
export interface ColBERTv2Options {
  /** Server URL, e.g. `http://20.102.90.50:2017/wiki17_abstracts`. Default `http://0.0.0.0`, as DSPy. */
  url?: string;
  /** Port appended to `url` as `${url}:${port}`, as DSPy does. */
  port?: string | number;
  /** Send POST requests with a JSON body instead of GET query parameters (DSPy's `post_requests`). Default false. */
  post?: boolean;
  /** Passages returned when a call gives no `k`. Default 10, as DSPy's `__call__`. */
  k?: number;
  /** Request timeout in milliseconds. Default 10000 (DSPy's 10 s). */
  timeoutMs?: number;
  /** The `fetch` to use (tests, proxies). Default: the global `fetch`. */
  fetch?: typeof fetch;
}

/** One hit from a ColBERTv2 server: `text` and `score`, plus whatever else the server sends (`pid`, `rank`, `prob`…). */
export interface ColBERTv2Passage {
  /** The passage text. */
  text: string;
  /** The server's relevance score. */
  score?: number;
  /** Same as `text`; added on the GET path only, as in DSPy. */
  long_text?: string;
  /** Other fields from the server. */
  [field: string]: unknown;
}

/** GET requests to the hosted server are limited to this many passages (DSPy asserts it). */
const MAX_GET_K = 100;

/**
 * Client of a ColBERTv2 retrieval server, matching DSPy's `dspy.ColBERTv2`: GET `url?query=…&k=…` (k ≤ 100) or, with
 * `post: true`, POST `{"query", "k"}` as `application/json; charset=utf-8`. The reply must be a JSON object holding a
 * `topk` list; `{"error": true, "message": m}` fails with DSPy's text `ColBERTv2 server returned an error: m`.
 * Results are truncated to `k`; the GET path adds `long_text = text` to each hit (the POST path does not, as upstream).
 *
 * @example
 * ```ts
 * const colbert = new ColBERTv2({ url: 'http://20.102.90.50:2017/wiki17_abstracts' });
 * configure({ rm: colbert });
 * const hits = await colbert.search('When was the first FIFA World Cup held?', { k: 5 });
 * ```
 */
export class ColBERTv2 implements Retriever {
  /** The full endpoint (with the port, when one was given). */
  readonly url: string;
  /** Whether requests are POSTs. */
  readonly post: boolean;
  /** Default number of passages per call. */
  readonly k: number;
  private readonly timeoutMs: number;
  private readonly fetchImpl: typeof fetch;

  constructor(options: ColBERTv2Options = {}) {
    const url = options.url ?? 'http://0.0.0.0';
    this.url = options.port !== undefined && options.port !== '' ? `${url}:${options.port}` : url;
    try {
      new URL(this.url);
    } catch (error) {
      throw new RetrievalError(
        'invalid_argument',
        `ColBERTv2: expected url (with port) to be an absolute http(s) URL, found "${this.url}".`,
        { cause: error },
      );
    }
    this.post = options.post ?? false;
    this.k = checkK(options.k ?? 10, 'ColBERTv2');
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.fetchImpl = options.fetch ?? globalThis.fetch;
  }

  /** The raw hits for `query` (DSPy's `__call__`), at most `k`. */
  async search(query: string, options: { k?: number; signal?: AbortSignal } = {}): Promise<ColBERTv2Passage[]> {
    throwIfAborted(options.signal, 'ColBERTv2.search');
    const k = checkK(options.k ?? this.k, 'ColBERTv2.search');
    if (!this.post && k > MAX_GET_K) {
      // DSPy's assertion text, kept verbatim.
      throw new RetrievalError(
        'invalid_argument',
        `Only k <= ${MAX_GET_K} is supported for the hosted ColBERTv2 server at the moment. Found k = ${k}; ask for ` +
          'fewer passages, or use post: true with a server that allows more.',
      );
    }
    const timeout = AbortSignal.timeout(this.timeoutMs);
    const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
    let response: Response;
    try {
      if (this.post) {
        response = await this.fetchImpl(this.url, {
          method: 'POST',
          headers: { 'Content-Type': 'application/json; charset=utf-8' },
          body: JSON.stringify({ query, k }),
          signal,
        });
      } else {
        const target = new URL(this.url);
        target.searchParams.append('query', query);
        target.searchParams.append('k', String(k));
        response = await this.fetchImpl(target, { method: 'GET', signal });
      }
    } catch (error) {
      throwIfAborted(options.signal, 'ColBERTv2.search');
      const timedOut = timeout.aborted;
      throw new RetrievalError(
        'connection',
        timedOut
          ? `ColBERTv2: expected a reply from ${this.url} within ${this.timeoutMs} ms, found none (timed out).`
          : `ColBERTv2: could not reach ${this.url} (${networkCause(error)}). Check the url and port and that the server is running.`,
        { cause: error },
      );
    }
    const body = await response.text();
    let json: unknown;
    try {
      json = JSON.parse(body);
    } catch (error) {
      throw new RetrievalError(
        'server_response',
        `ColBERTv2 server returned an invalid response: expected a JSON object with a "topk" list, found ` +
          `HTTP ${response.status} with a non-JSON body (${excerpt(body)}).`,
        { cause: error, isRetryable: response.status >= 500 },
      );
    }
    if (json === null || typeof json !== 'object' || Array.isArray(json)) {
      throw new RetrievalError(
        'server_response',
        `ColBERTv2 server returned an invalid response: expected a JSON object with a "topk" list, found ${jsonType(json)}.`,
      );
    }
    const reply = json as Record<string, unknown>;
    if (reply.error) {
      throw new RetrievalError('server_response', `ColBERTv2 server returned an error: ${String(reply.message)}`);
    }
    if (!('topk' in reply)) {
      throw new RetrievalError(
        'server_response',
        `ColBERTv2 server returned an invalid response: expected a JSON object with a "topk" list, found keys [${Object.keys(reply).join(', ')}] (HTTP ${response.status}).`,
      );
    }
    if (!Array.isArray(reply.topk)) {
      throw new RetrievalError(
        'server_response',
        `ColBERTv2 server returned an invalid response: expected "topk" to be a list, found ${jsonType(reply.topk)}.`,
      );
    }
    return reply.topk.slice(0, k).map((hit, i) => {
      if (hit === null || typeof hit !== 'object' || typeof (hit as { text?: unknown }).text !== 'string') {
        throw new RetrievalError(
          'server_response',
          `ColBERTv2 server returned an invalid response: expected topk[${i}] to be an object with a string "text", found ${jsonType(hit)}.`,
        );
      }
      const passage = { ...(hit as ColBERTv2Passage) };
      return this.post ? passage : { ...passage, long_text: passage.text };
    });
  }

  /** The top passages for `query` as {@link RetrievedPassage}s (text = `long_text` ?? `text`, id = `pid` when sent). */
  async retrieve(query: string, options: RetrieveOptions = {}): Promise<RetrievedPassage[]> {
    if (options.filter !== undefined) {
      throw new RetrievalError(
        'invalid_argument',
        'ColBERTv2.retrieve: expected no metadata filter (the ColBERTv2 server protocol has none), found one.',
      );
    }
    const hits = await this.search(query, { k: options.k, signal: options.signal });
    return hits.map((hit) => {
      const { text, long_text, score, pid, ...rest } = hit;
      const passage: RetrievedPassage = { text: long_text ?? text, metadata: rest };
      if (typeof score === 'number') passage.score = score;
      if (typeof pid === 'string' || typeof pid === 'number') passage.id = pid;
      return passage;
    });
  }
}

function jsonType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

function excerpt(body: string): string {
  const trimmed = body.trim();
  if (trimmed === '') return 'empty';
  return trimmed.length > 80 ? `starting "${trimmed.slice(0, 80)}…"` : `"${trimmed}"`;
}

function networkCause(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } })?.cause;
  return cause?.code ?? cause?.message ?? (error as Error)?.message ?? String(error);
}
