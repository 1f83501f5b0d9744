/**
 * A small OpenAI-wire-compatible HTTP server for tests and benchmarks: chat completions (JSON and SSE streaming) and
 * embeddings on 127.0.0.1, with injectable faults (429 with `Retry-After`, 5xx, slow replies, truncated streams,
 * malformed JSON) and request counting. Never part of the published package.
 *
 * @module
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** What the server answers to one chat request. */
export interface ChatReply {
  /** Assistant text. */
  text?: string;
  /** Reasoning text (sent as `reasoning_content`). */
  reasoning?: string;
  /** Tool calls to return. */
  toolCalls?: { id: string; name: string; arguments: string }[];
  /** OpenAI finish reason. Default `stop` (or `tool_calls` when tools are returned). */
  finishReason?: string;
  /** Usage block. Default: 10 prompt / 5 completion tokens. */
  usage?: {
    prompt_tokens: number;
    completion_tokens: number;
    prompt_tokens_details?: { cached_tokens?: number };
    completion_tokens_details?: { reasoning_tokens?: number };
  };
  /** Model name reported back. Default: the requested model. */
  model?: string;
}

/** A fault injected into the next request(s). */
export type Fault =
  | { type: 'status'; status: number; retryAfter?: string; message?: string; code?: string }
  | { type: 'delay'; ms: number }
  | { type: 'malformed-json' }
  | { type: 'truncate-stream'; afterChunks: number }
  | { type: 'reset' };

/** One request the server received. */
export interface ReceivedRequest {
  /** URL path. */
  path: string;
  /** Parsed JSON body. */
  body: Record<string, unknown>;
  /** Request headers. */
  headers: IncomingMessage['headers'];
}

/** Options of {@link startOpenAIServer}. */
export interface OpenAIServerOptions {
  /** Builds the reply for a chat request. Default: echoes the last user message as `echo: …`. */
  reply?: (body: Record<string, unknown>, index: number) => ChatReply;
  /** Latency added to every request, in milliseconds. */
  latencyMs?: number;
  /** Characters per streamed text chunk. Default 4. */
  streamChunkSize?: number;
}

/** A running test server. */
export interface OpenAIServer {
  /** Base URL including `/v1`, e.g. `http://127.0.0.1:40123/v1`. */
  readonly baseURL: string;
  /** Every request received, in arrival order. */
  readonly requests: ReceivedRequest[];
  /** Requests whose client socket closed before the response was complete. */
  readonly abortedRequests: number;
  /** Queues faults, consumed one per incoming request in order. */
  enqueue(...faults: Fault[]): void;
  /** Replaces the reply function. */
  setReply(reply: OpenAIServerOptions['reply']): void;
  /** Sets the latency added to every request. */
  setLatency(ms: number): void;
  /** Resolves once `count` requests have been aborted by their clients. */
  waitForAborted(count: number, timeoutMs?: number): Promise<void>;
  /** Stops the server and destroys open sockets. */
  close(): Promise<void>;
}

function lastUserText(body: Record<string, unknown>): string {
  const messages = (body.messages ?? []) as { role: string; content: unknown }[];
  const last = [...messages].reverse().find((m) => m.role === 'user');
  if (!last) return '';
  if (typeof last.content === 'string') return last.content;
  if (Array.isArray(last.content)) {
    return last.content
      .filter((p: { type?: string }) => p.type === 'text')
      .map((p: { text?: string }) => p.text ?? '')
      .join('');
  }
  return '';
}

const defaultReply = (body: Record<string, unknown>): ChatReply => ({ text: `echo: ${lastUserText(body)}` });

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function sleep(ms: number, res: ServerResponse): Promise<boolean> {
  return new Promise((resolve) => {
    if (ms <= 0) return resolve(true);
    const timer = setTimeout(() => {
      res.off('close', onClose);
      resolve(true);
    }, ms);
    const onClose = () => {
      clearTimeout(timer);
      resolve(false);
    };
    res.once('close', onClose);
  });
}

/** Starts a server on 127.0.0.1 with a random port. Close it with {@link OpenAIServer.close}. */
export async function startOpenAIServer(options: OpenAIServerOptions = {}): Promise<OpenAIServer> {
  let reply = options.reply ?? defaultReply;
  let latencyMs = options.latencyMs ?? 0;
  const chunkSize = options.streamChunkSize ?? 4;
  const faults: Fault[] = [];
  const requests: ReceivedRequest[] = [];
  const sockets = new Set<Socket>();
  let aborted = 0;
  const abortWaiters: { count: number; resolve: () => void }[] = [];
  let chatIndex = 0;

  const noteAborted = () => {
    aborted++;
    for (const waiter of abortWaiters.splice(0)) {
      if (aborted >= waiter.count) waiter.resolve();
      else abortWaiters.push(waiter);
    }
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    let completed = false;
    res.on('finish', () => {
      completed = true;
    });
    res.on('close', () => {
      if (!completed) noteAborted();
    });
    const raw = await readBody(req);
    let body: Record<string, unknown> = {};
    try {
      body = raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
    } catch {
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: 'invalid JSON body', type: 'invalid_request_error' } }));
      return;
    }
    const path = (req.url ?? '').replace(/\?.*$/, '');
    requests.push({ path, body, headers: req.headers });
    const fault = faults.shift();

    if (latencyMs > 0 && !(await sleep(latencyMs, res))) return;
    if (fault?.type === 'delay' && !(await sleep(fault.ms, res))) return;
    if (fault?.type === 'reset') {
      req.socket.destroy();
      return;
    }
    if (fault?.type === 'status') {
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (fault.retryAfter !== undefined) headers['retry-after'] = fault.retryAfter;
      res.writeHead(fault.status, headers);
      res.end(
        JSON.stringify({
          error: {
            message: fault.message ?? `injected ${fault.status}`,
            type: 'injected',
            code: fault.code ?? null,
          },
        }),
      );
      return;
    }
    if (fault?.type === 'malformed-json') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"id": "x", "choices": [ {"message": ');
      return;
    }

    if (path.endsWith('/embeddings')) {
      const input = body.input as string[] | string;
      const texts = Array.isArray(input) ? input : [input];
      const data = texts.map((text, index) => ({
        object: 'embedding',
        index,
        embedding: [text.length, index, 1],
      }));
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          object: 'list',
          data,
          model: body.model,
          usage: { prompt_tokens: texts.length, total_tokens: texts.length },
        }),
      );
      return;
    }

    if (!path.endsWith('/chat/completions')) {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: 'not found' } }));
      return;
    }

    const r = reply(body, chatIndex++);
    const model = r.model ?? (body.model as string);
    const usage = r.usage ?? { prompt_tokens: 10, completion_tokens: 5 };
    const toolCalls = r.toolCalls?.map((call, index) => ({
      index,
      id: call.id,
      type: 'function',
      function: { name: call.name, arguments: call.arguments },
    }));
    const finishReason = r.finishReason ?? (toolCalls?.length ? 'tool_calls' : 'stop');

    if (body.stream === true) {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      const chunks: unknown[] = [];
      const base = { id: 'chatcmpl-test', object: 'chat.completion.chunk', created: 1, model };
      chunks.push({ ...base, choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] });
      if (r.reasoning) {
        chunks.push({
          ...base,
          choices: [{ index: 0, delta: { reasoning_content: r.reasoning }, finish_reason: null }],
        });
      }
      const text = r.text ?? '';
      for (let i = 0; i < text.length; i += chunkSize) {
        chunks.push({
          ...base,
          choices: [{ index: 0, delta: { content: text.slice(i, i + chunkSize) }, finish_reason: null }],
        });
      }
      if (toolCalls?.length) {
        chunks.push({ ...base, choices: [{ index: 0, delta: { tool_calls: toolCalls }, finish_reason: null }] });
      }
      chunks.push({ ...base, choices: [{ index: 0, delta: {}, finish_reason: finishReason }] });
      chunks.push({ ...base, choices: [], usage });
      for (let i = 0; i < chunks.length; i++) {
        if (fault?.type === 'truncate-stream' && i >= fault.afterChunks) {
          req.socket.destroy();
          return;
        }
        res.write(`data: ${JSON.stringify(chunks[i])}\n\n`);
        // Yield so chunks leave as separate network writes, as a real server streams them.
        await new Promise((resolve) => setImmediate(resolve));
      }
      res.end('data: [DONE]\n\n');
      return;
    }

    const message: Record<string, unknown> = { role: 'assistant', content: r.text ?? null };
    if (r.reasoning) message.reasoning_content = r.reasoning;
    if (toolCalls?.length) message.tool_calls = toolCalls.map(({ index: _i, ...rest }) => rest);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify({
        id: 'chatcmpl-test',
        object: 'chat.completion',
        created: 1,
        model,
        choices: [{ index: 0, message, finish_reason: finishReason }],
        usage,
      }),
    );
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    requests,
    get abortedRequests() {
      return aborted;
    },
    enqueue: (...more) => faults.push(...more),
    setReply: (next) => {
      reply = next ?? defaultReply;
    },
    setLatency: (ms) => {
      latencyMs = ms;
    },
    waitForAborted: (count, timeoutMs = 5000) =>
      new Promise<void>((resolve, reject) => {
        if (aborted >= count) return resolve();
        const timer = setTimeout(
          () => reject(new Error(`server saw ${aborted} aborted requests, expected ${count}`)),
          timeoutMs,
        );
        abortWaiters.push({
          count,
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
        });
      }),
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
