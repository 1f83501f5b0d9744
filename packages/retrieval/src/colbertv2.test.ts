import { createServer, type IncomingMessage, type Server } from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ColBERTv2 } from './colbertv2.ts';
import { RetrievalError } from './errors.ts';

interface Seen {
  method: string;
  url: string;
  contentType: string | undefined;
  body: string;
}

let server: Server;
let base: string;
const seen: Seen[] = [];
let reply: { status: number; body: string } = { status: 200, body: '{}' };

const topk = Array.from({ length: 5 }, (_, i) => ({ text: `passage ${i}`, score: 10 - i, pid: 100 + i, rank: i + 1 }));

async function read(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

beforeAll(async () => {
  server = createServer(async (request, response) => {
    seen.push({
      method: request.method!,
      url: request.url!,
      contentType: request.headers['content-type'],
      body: await read(request),
    });
    response.writeHead(reply.status, { 'content-type': 'application/json' });
    response.end(reply.body);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = 'http://127.0.0.1';
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

beforeEach(() => {
  seen.length = 0;
  reply = { status: 200, body: JSON.stringify({ topk }) };
});

const port = () => (server.address() as { port: number }).port;

async function failure(promise: Promise<unknown>): Promise<RetrievalError> {
  const error = await promise.catch((e: unknown) => e);
  expect(RetrievalError.isInstance(error)).toBe(true);
  return error as RetrievalError;
}

describe('ColBERTv2', () => {
  it('GETs url:port/path?query=…&k=…, truncates to k and adds long_text', async () => {
    const colbert = new ColBERTv2({ url: `${base}`, port: port() });
    expect(colbert.url).toBe(`${base}:${port()}`);
    const hits = await colbert.search('who wrote "Hamlet" & why?', { k: 3 });
    expect(seen).toHaveLength(1);
    expect(seen[0]!.method).toBe('GET');
    const url = new URL(seen[0]!.url, base);
    expect(url.searchParams.get('query')).toBe('who wrote "Hamlet" & why?');
    expect(url.searchParams.get('k')).toBe('3');
    expect(hits).toEqual(topk.slice(0, 3).map((hit) => ({ ...hit, long_text: hit.text })));
  });

  it('POSTs {query, k} as application/json; charset=utf-8 and, like DSPy, adds no long_text', async () => {
    const colbert = new ColBERTv2({ url: `${base}:${port()}/search`, post: true });
    const hits = await colbert.search('café', { k: 2 });
    expect(seen[0]).toMatchObject({ method: 'POST', url: '/search', contentType: 'application/json; charset=utf-8' });
    expect(JSON.parse(seen[0]!.body)).toEqual({ query: 'café', k: 2 });
    expect(hits).toEqual(topk.slice(0, 2));
    expect(hits[0]).not.toHaveProperty('long_text');
  });

  it('implements Retriever: text, score, pid as id, other fields as metadata', async () => {
    const colbert = new ColBERTv2({ url: `${base}:${port()}`, k: 2 });
    expect(await colbert.retrieve('q')).toEqual([
      { text: 'passage 0', score: 10, id: 100, metadata: { rank: 1 } },
      { text: 'passage 1', score: 9, id: 101, metadata: { rank: 2 } },
    ]);
    await expect(colbert.retrieve('q', { filter: { a: 1 } })).rejects.toThrow(/expected no metadata filter/);
  });

  it('refuses k > 100 on GET with DSPy’s message, before any request', async () => {
    const colbert = new ColBERTv2({ url: `${base}:${port()}` });
    const error = await failure(colbert.search('q', { k: 101 }));
    expect(error.message).toMatch(
      /^Only k <= 100 is supported for the hosted ColBERTv2 server at the moment\. Found k = 101/,
    );
    expect(seen).toHaveLength(0);
  });

  it('turns {error: true, message} into DSPy’s error text', async () => {
    reply = { status: 200, body: JSON.stringify({ error: true, message: 'index not loaded' }) };
    const error = await failure(new ColBERTv2({ url: `${base}:${port()}` }).search('q'));
    expect(error.message).toBe('ColBERTv2 server returned an error: index not loaded');
    expect(error.kind).toBe('server_response');
  });

  it('rejects a reply without topk, naming the keys it found', async () => {
    reply = { status: 200, body: JSON.stringify({ results: [] }) };
    const error = await failure(new ColBERTv2({ url: `${base}:${port()}`, post: true }).search('q'));
    expect(error.message).toMatch(/expected a JSON object with a "topk" list, found keys \[results\] \(HTTP 200\)/);
  });

  it('rejects malformed replies: non-JSON, a non-list topk, a hit without text', async () => {
    const colbert = new ColBERTv2({ url: `${base}:${port()}` });
    reply = { status: 502, body: '<html>Bad Gateway</html>' };
    const nonJson = await failure(colbert.search('q'));
    expect(nonJson.message).toMatch(/found HTTP 502 with a non-JSON body \("<html>Bad Gateway<\/html>"\)/);
    expect(nonJson.isRetryable).toBe(true);
    reply = { status: 200, body: JSON.stringify({ topk: 'nope' }) };
    expect((await failure(colbert.search('q'))).message).toMatch(/expected "topk" to be a list, found a string/);
    reply = { status: 200, body: JSON.stringify({ topk: [{ score: 1 }] }) };
    expect((await failure(colbert.search('q'))).message).toMatch(/topk\[0\] to be an object with a string "text"/);
  });

  it('reports a refused connection as a retryable connection error', async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const closed = (probe.address() as { port: number }).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const error = await failure(new ColBERTv2({ url: base, port: closed }).search('q'));
    expect(error).toMatchObject({ kind: 'connection', isRetryable: true });
    expect(error.message).toMatch(new RegExp(`could not reach http://127.0.0.1:${closed} \\(ECONNREFUSED\\)`));
  });
});
