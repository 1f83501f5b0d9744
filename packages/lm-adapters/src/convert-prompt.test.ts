import { LMError, type LMMessage } from '@dspy-ts/core';
import { DownloadError } from 'ai';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { IMAGES_ORIGIN, type ImageServer, PNG_BYTES, startImageServer } from '../test/image-server.ts';
import {
  describeUrl,
  downloadImages,
  hasRemoteImages,
  imagesToDownload,
  isUrlSupported,
  toV4Prompt,
} from './convert-prompt.ts';

function thrown(run: () => unknown): LMError {
  try {
    run();
  } catch (error) {
    if (LMError.isInstance(error)) return error;
    throw error;
  }
  throw new Error('expected an LMError, the call returned');
}

async function rejected(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the promise to reject, it resolved');
}

describe('toV4Prompt', () => {
  it('converts system, user, assistant and tool messages', () => {
    const prompt = toV4Prompt([
      {
        role: 'system',
        content: [
          { type: 'text', text: 'Be' },
          { type: 'text', text: 'brief.' },
        ],
      },
      { role: 'user', content: 'Hi' },
      { role: 'assistant', content: 'Hello' },
      { role: 'user', content: 'Weather?' },
      { role: 'assistant', content: 'Checking.', toolCalls: [{ id: 'c1', name: 'weather', args: { city: 'Paris' } }] },
      { role: 'tool', toolCallId: 'c1', toolName: 'weather', content: 'sunny' },
    ]);
    expect(prompt).toEqual([
      { role: 'system', content: 'Be\nbrief.' },
      { role: 'user', content: [{ type: 'text', text: 'Hi' }] },
      { role: 'assistant', content: [{ type: 'text', text: 'Hello' }] },
      { role: 'user', content: [{ type: 'text', text: 'Weather?' }] },
      {
        role: 'assistant',
        content: [
          { type: 'text', text: 'Checking.' },
          { type: 'tool-call', toolCallId: 'c1', toolName: 'weather', input: { city: 'Paris' } },
        ],
      },
      {
        role: 'tool',
        content: [
          { type: 'tool-result', toolCallId: 'c1', toolName: 'weather', output: { type: 'text', value: 'sunny' } },
        ],
      },
    ]);
  });

  it('merges consecutive tool messages, drops empty text parts and leaves out empty assistant text beside calls', () => {
    const prompt = toV4Prompt([
      {
        role: 'user',
        content: [
          { type: 'text', text: '' },
          { type: 'text', text: 'Two lookups' },
        ],
      },
      {
        role: 'assistant',
        content: '',
        toolCalls: [
          { id: 'a', name: 'f', args: {} },
          { id: 'b', name: 'g', args: { x: 1 } },
        ],
      },
      { role: 'tool', toolCallId: 'a', toolName: 'f', content: '1' },
      { role: 'tool', toolCallId: 'b', toolName: 'g', content: '2' },
      { role: 'user', content: 'Thanks' },
    ]);
    expect(prompt.map((message) => message.role)).toEqual(['user', 'assistant', 'tool', 'user']);
    expect(prompt[0]?.content).toEqual([{ type: 'text', text: 'Two lookups' }]);
    expect(((prompt[1]?.content ?? []) as { type: string }[]).map((part) => part.type)).toEqual([
      'tool-call',
      'tool-call',
    ]);
    expect(((prompt[2]?.content ?? []) as { toolCallId: string }[]).map((part) => part.toolCallId)).toEqual(['a', 'b']);
  });

  it('names tool calls that have no result before the next user message or at the end', () => {
    const call: LMMessage = { role: 'assistant', content: '', toolCalls: [{ id: 'call_7', name: 'f', args: {} }] };
    const early = thrown(() => toV4Prompt([{ role: 'user', content: 'q' }, call, { role: 'user', content: 'again' }]));
    expect(early.kind).toBe('invalid_request');
    expect(early.message).toContain('call_7');
    expect(early.message).toContain('before message 2 (user)');
    expect(thrown(() => toV4Prompt([{ role: 'user', content: 'q' }, call])).message).toMatch(/at the end.*call_7/);
  });

  it('passes image URLs as URLs, keeping a URL string that does not round-trip', () => {
    const prompt = toV4Prompt([
      {
        role: 'user',
        content: [
          { type: 'image', url: 'https://example.com/cat.png', mediaType: 'image/png' },
          { type: 'image', url: 'https://example.com/a b.jpg' },
        ],
      },
    ]);
    const [first, second] = (prompt[0]?.content ?? []) as { mediaType: string; data: { type: string; url: URL } }[];
    expect(first).toMatchObject({ type: 'file', mediaType: 'image/png', data: { type: 'url' } });
    expect(first?.data.url.href).toBe('https://example.com/cat.png');
    expect(first?.data).not.toHaveProperty('originalUrl');
    expect(second).toMatchObject({ mediaType: 'image', data: { originalUrl: 'https://example.com/a b.jpg' } });
  });

  it('decodes data URIs (base64 and percent-encoded), the URI media type first', () => {
    const prompt = toV4Prompt([
      {
        role: 'user',
        content: [
          { type: 'image', url: 'data:image/png;base64,iVBORw0KGgo=', mediaType: 'image/jpeg' },
          { type: 'image', url: 'data:image/svg+xml,%3Csvg%2F%3E' },
          { type: 'image', url: 'data:,%FF%00é', mediaType: 'image/x-raw' },
        ],
      },
    ]);
    const [png, svg, raw] = (prompt[0]?.content ?? []) as {
      mediaType: string;
      data: { type: string; data: unknown };
    }[];
    expect(png).toEqual({ type: 'file', mediaType: 'image/png', data: { type: 'data', data: 'iVBORw0KGgo=' } });
    expect(svg?.mediaType).toBe('image/svg+xml');
    expect(new TextDecoder().decode(svg?.data.data as Uint8Array)).toBe('<svg/>');
    // Escapes are raw bytes (not necessarily UTF-8); a media type missing from the URI comes from the part.
    expect(raw?.mediaType).toBe('image/x-raw');
    expect(Array.from(raw?.data.data as Uint8Array)).toEqual([0xff, 0x00, 0xc3, 0xa9]);
  });

  it('uses downloaded bytes, with the server media type only when the part has no full one', () => {
    const downloaded = new Map([
      ['https://example.com/a', { data: PNG_BYTES, mediaType: 'image/png' }],
      ['https://example.com/b', { data: PNG_BYTES, mediaType: 'image/webp' }],
      ['https://example.com/c', { data: PNG_BYTES, mediaType: undefined }],
    ]);
    const prompt = toV4Prompt(
      [
        {
          role: 'user',
          content: [
            { type: 'image', url: 'https://example.com/a' },
            { type: 'image', url: 'https://example.com/b', mediaType: 'image/jpeg' },
            { type: 'image', url: 'https://example.com/c' },
          ],
        },
      ],
      downloaded,
    );
    const parts = (prompt[0]?.content ?? []) as { mediaType: string; data: { type: string; data: unknown } }[];
    expect(parts.map((part) => part.mediaType)).toEqual(['image/png', 'image/jpeg', 'image']);
    for (const part of parts) expect(part.data).toEqual({ type: 'data', data: PNG_BYTES });
  });

  it('rejects an invalid image URL or data URI with a message that names it', () => {
    const badUrl = thrown(() => toV4Prompt([{ role: 'user', content: [{ type: 'image', url: 'not a url' }] }]));
    expect(badUrl).toMatchObject({ kind: 'invalid_request' });
    expect(badUrl.message).toContain('got not a url');
    const badData = thrown(() =>
      toV4Prompt([{ role: 'user', content: [{ type: 'image', url: 'data:image/png;base64' }] }]),
    );
    expect(badData.message).toMatch(/expected "data:<media type>\[;base64\],<data>", got data:image\/png;base64/);
  });
});

describe('isUrlSupported and imagesToDownload', () => {
  it('matches media type keys, prefixes and wildcards as the AI SDK does', () => {
    const https = [/^https:\/\//];
    expect(isUrlSupported('https://x/a.png', 'image/png', { 'image/*': https })).toBe(true);
    expect(isUrlSupported('https://x/a.png', 'image', { 'image/*': https })).toBe(true);
    expect(isUrlSupported('https://x/a.png', 'image', { 'image/png': https })).toBe(false);
    expect(isUrlSupported('https://x/a.png', 'image/png', { 'image/png': https })).toBe(true);
    expect(isUrlSupported('https://x/a.png', 'image/jpeg', { 'image/png': https })).toBe(false);
    expect(isUrlSupported('https://x/a.png', 'image/png', { '*': https })).toBe(true);
    expect(isUrlSupported('http://x/a.png', 'image/png', { 'image/*': https })).toBe(false);
    expect(isUrlSupported('https://x/a.png', 'image/png', { 'application/pdf': https })).toBe(false);
    expect(isUrlSupported('https://x/a.png', 'image/png', {})).toBe(false);
    const global = /^https:/g;
    global.lastIndex = 5;
    expect(isUrlSupported('https://x', 'image/png', { 'image/*': [global] })).toBe(true);
    expect(global.lastIndex).toBe(5);
  });

  it('lists the remote image URLs the model does not take, once each', () => {
    const messages: LMMessage[] = [
      {
        role: 'user',
        content: [
          { type: 'image', url: 'https://ok.example/a.png' },
          { type: 'image', url: 'http://plain.example/b.png' },
          { type: 'image', url: 'http://plain.example/b.png' },
          { type: 'image', url: 'data:image/png;base64,AAAA' },
        ],
      },
    ];
    expect(hasRemoteImages(messages)).toBe(true);
    expect(hasRemoteImages([{ role: 'user', content: [{ type: 'image', url: 'data:image/png;base64,AA' }] }])).toBe(
      false,
    );
    expect(imagesToDownload(messages, { 'image/*': [/^https:\/\//] })).toEqual(['http://plain.example/b.png']);
    expect(imagesToDownload(messages, {})).toEqual(['https://ok.example/a.png', 'http://plain.example/b.png']);
  });
});

describe('downloadImages', () => {
  let server: ImageServer;
  beforeEach(async () => {
    server = await startImageServer();
  });
  afterEach(async () => {
    await server.close();
  });

  it('fetches the images with their content type', async () => {
    const images = await downloadImages([`${IMAGES_ORIGIN}/cat.png`, `${IMAGES_ORIGIN}/plain.bin`], {
      modelId: 'm',
      fetch: server.fetch,
    });
    expect(images.get(`${IMAGES_ORIGIN}/cat.png`)).toEqual({ data: PNG_BYTES, mediaType: 'image/png' });
    expect(images.get(`${IMAGES_ORIGIN}/plain.bin`)).toEqual({ data: PNG_BYTES, mediaType: undefined });
    expect(server.requests.sort()).toEqual(['/cat.png', '/plain.bin']);
  });

  it('fails on a 404 with an error that names the URL without its query, the status and the model', async () => {
    const error = await rejected(
      downloadImages([`${IMAGES_ORIGIN}/missing.png?X-Signature=secret-token`], {
        modelId: 'acme/vision-1',
        fetch: server.fetch,
      }),
    );
    expect(LMError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ kind: 'invalid_request', isRetryable: false });
    const message = (error as LMError).message;
    expect(message).toContain(`${IMAGES_ORIGIN}/missing.png?…`);
    expect(message).toContain('expected HTTP 2xx, got 404');
    expect(message).toContain('acme/vision-1');
    expect(message).not.toContain('secret-token');
  });

  it('refuses loopback and private addresses without sending a request', async () => {
    const error = await rejected(
      downloadImages([`${server.origin}/cat.png?token=abc123`], { modelId: 'm', fetch: server.fetch }),
    );
    expect(error).toMatchObject({ kind: 'invalid_request', isRetryable: false });
    expect((error as LMError).message).toContain(`${server.origin}/cat.png?…`);
    expect((error as LMError).message).toContain('127.0.0.1 is not allowed');
    expect((error as LMError).message).not.toContain('abc123');
    expect(server.requests).toEqual([]);
  });

  it('reports a connection failure as a retryable network error naming the URL', async () => {
    const refused: typeof fetch = async () => {
      throw new TypeError('fetch failed', {
        cause: Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
      });
    };
    const error = await rejected(downloadImages([`${IMAGES_ORIGIN}/cat.png`], { modelId: 'm', fetch: refused }));
    expect(error).toMatchObject({ kind: 'network', isRetryable: true });
    expect((error as LMError).message).toContain(`${IMAGES_ORIGIN}/cat.png`);
    expect((error as LMError).message).toContain('fetch failed');
    expect((error as LMError).cause).toBeDefined();
  });

  it('rethrows a download the signal aborted as it is, for the caller to report as an abort', async () => {
    const controller = new AbortController();
    controller.abort();
    const error = await rejected(
      downloadImages([`${IMAGES_ORIGIN}/cat.png`], { modelId: 'm', signal: controller.signal, fetch: server.fetch }),
    );
    expect(LMError.isInstance(error)).toBe(false);
    expect(DownloadError.isInstance(error)).toBe(true);
    expect(((error as Error).cause as Error).name).toBe('AbortError');
    expect(server.requests).toEqual([]);
  });
});

describe('describeUrl', () => {
  it('drops credentials and queries, and shortens data URIs to their header', () => {
    expect(describeUrl('https://user:pw@example.com/a.png?sig=1')).toBe('https://example.com/a.png?…');
    expect(describeUrl(`data:image/png;base64,${'A'.repeat(1000)}`)).toBe(
      'data:image/png;base64,… (a data: URI of 1022 characters)',
    );
  });
});
