/**
 * Core's messages as a LanguageModelV4 prompt: system, user (text and image parts), assistant (text and tool calls)
 * and tool messages. Image URLs the model accepts are passed as URLs; the others are downloaded first
 * ({@link downloadImages}) and passed as bytes; `data:` URIs are decoded.
 *
 * @module
 */
import type {
  LanguageModelV4FilePart,
  LanguageModelV4Message,
  LanguageModelV4Prompt,
  LanguageModelV4TextPart,
  LanguageModelV4ToolCallPart,
  LanguageModelV4ToolResultPart,
} from '@ai-sdk/provider';
import { type ContentPart, type ImagePart, LMError, type LMMessage } from '@dspy-ts/core';
import { createDownload, DownloadError } from 'ai';
import { redactSecrets } from './map-error.ts';

/** URL patterns a model fetches itself, by media type (`LanguageModelV4['supportedUrls']`, resolved). */
export type SupportedUrls = Record<string, RegExp[]>;

/** An image fetched because the model does not accept its URL. */
export interface DownloadedImage {
  /** The bytes. */
  data: Uint8Array;
  /** The `content-type` the server sent, if any. */
  mediaType: string | undefined;
}

/** Downloaded images by the URL string of the image part. */
export type DownloadedImages = ReadonlyMap<string, DownloadedImage>;

function textOf(content: string | ContentPart[]): string {
  if (typeof content === 'string') return content;
  let text = '';
  let first = true;
  for (const part of content) {
    if (part.type !== 'text') continue;
    text += first ? part.text : `\n${part.text}`;
    first = false;
  }
  return text;
}

function isFullMediaType(mediaType: string): boolean {
  const slash = mediaType.indexOf('/');
  return slash > 0 && slash < mediaType.length - 1 && mediaType.slice(slash + 1) !== '*';
}

function isRemote(url: string): boolean {
  return url.startsWith('https://') || url.startsWith('http://');
}

/**
 * A URL as it may appear in an error message: scheme, host and path, without credentials or a query string (signed
 * URLs carry tokens there); a `data:` URI by its header only.
 */
export function describeUrl(url: string): string {
  if (url.startsWith('data:')) {
    const comma = url.indexOf(',');
    return `${comma === -1 ? url.slice(0, 40) : url.slice(0, comma)},… (a data: URI of ${url.length} characters)`;
  }
  try {
    const parsed = new URL(url);
    return `${parsed.protocol}//${parsed.host}${parsed.pathname}${parsed.search ? '?…' : ''}`;
  } catch {
    return url.length > 80 ? `${url.slice(0, 80)}…` : url;
  }
}

/**
 * Whether a model accepts `url` for `mediaType` as it is, by its `supportedUrls` (the AI SDK's rule: keys are media
 * types, `image/*`-style prefixes or `*`; a top-level media type such as `image` matches `image/*` keys only).
 */
export function isUrlSupported(url: string, mediaType: string, supportedUrls: SupportedUrls): boolean {
  const type = mediaType.toLowerCase();
  const topLevelOnly = !type.includes('/');
  for (const [key, patterns] of Object.entries(supportedUrls)) {
    const lower = key.toLowerCase();
    const prefix = lower === '*' || lower === '*/*' ? '' : lower.replace('*', '');
    const matches =
      prefix === '' ||
      (topLevelOnly ? `${type}/` === prefix : prefix.endsWith('/') ? type.startsWith(prefix) : type === prefix);
    if (!matches) continue;
    for (const pattern of patterns) {
      const lastIndex = pattern.lastIndex;
      pattern.lastIndex = 0;
      const hit = pattern.test(url);
      pattern.lastIndex = lastIndex;
      if (hit) return true;
    }
  }
  return false;
}

/** The http(s) image URLs of `messages` that the model does not accept and that must be downloaded, without repeats. */
export function imagesToDownload(messages: readonly LMMessage[], supportedUrls: SupportedUrls): string[] {
  const urls = new Set<string>();
  for (const message of messages) {
    if (message.role !== 'user' || typeof message.content === 'string') continue;
    for (const part of message.content) {
      if (part.type !== 'image' || !isRemote(part.url) || urls.has(part.url)) continue;
      if (!isUrlSupported(part.url, part.mediaType ?? 'image', supportedUrls)) urls.add(part.url);
    }
  }
  return [...urls];
}

/** True when some user message has an http(s) image (so the model's `supportedUrls` must be consulted). */
export function hasRemoteImages(messages: readonly LMMessage[]): boolean {
  for (const message of messages) {
    if (message.role !== 'user' || typeof message.content === 'string') continue;
    for (const part of message.content) if (part.type === 'image' && isRemote(part.url)) return true;
  }
  return false;
}

/**
 * Fetches `urls` in parallel with the AI SDK's downloader (`createDownload`: `fetch` with the SDK's protection against
 * server-side request forgery, i.e. no private, loopback or link-local addresses and validated redirects, and a 2 GiB
 * size limit). A failure is an {@link LMError} that names the URL (without its query string) and what went wrong:
 * `invalid_request` for a 4xx answer or a URL that may not be fetched, retryable `network` for a 5xx, 408 or 429
 * answer or a connection failure. When `signal` aborted the download, the error is rethrown as it is, for the caller
 * to report as an abort or a timeout.
 */
export async function downloadImages(
  urls: readonly string[],
  options: { signal?: AbortSignal; modelId: string; fetch?: typeof fetch },
): Promise<Map<string, DownloadedImage>> {
  const download = createDownload(options.fetch ? { fetch: options.fetch } : {});
  const entries = await Promise.all(
    urls.map(async (url): Promise<[string, DownloadedImage]> => {
      try {
        const { data, mediaType } = await download({
          url: new URL(url),
          ...(options.signal ? { abortSignal: options.signal } : {}),
        });
        return [url, { data, mediaType: mediaType?.split(';')[0]?.trim() || undefined }];
      } catch (error) {
        if (options.signal?.aborted || !DownloadError.isInstance(error)) throw error;
        throw downloadFailure(url, error, options.modelId);
      }
    }),
  );
  return new Map(entries);
}

function downloadFailure(url: string, error: DownloadError, modelId: string): LMError {
  const where = `the image ${describeUrl(url)} (${modelId} does not accept image URLs, so it is downloaded and sent as bytes)`;
  const status = error.statusCode;
  if (status !== undefined) {
    const retryable = status >= 500 || status === 408 || status === 429;
    return new LMError(
      retryable ? 'network' : 'invalid_request',
      `Could not download ${where}: expected HTTP 2xx, got ${status}${error.statusText ? ` ${error.statusText}` : ''}. ` +
        'Pass a URL that is publicly reachable or a data: URI.',
      { cause: error, isRetryable: retryable },
    );
  }
  // The SDK's messages quote the URL in full; only the described form goes into ours.
  const reason = redactSecrets(
    (error.cause instanceof Error ? error.cause.message : error.message).split(url).join(describeUrl(url)),
  );
  if (error.cause === undefined) {
    return new LMError('invalid_request', `Could not download ${where}: ${reason}. Pass a data: URI instead.`, {
      cause: error,
    });
  }
  return new LMError('network', `Could not download ${where}: ${reason}.`, { cause: error });
}

function dataUriPart(url: string, mediaType: string | undefined): LanguageModelV4FilePart {
  const comma = url.indexOf(',');
  const header = comma === -1 ? '' : url.slice(5, comma);
  const [type, ...params] = header.split(';');
  if (comma === -1 || !(type || mediaType)) {
    throw new LMError(
      'invalid_request',
      `An image part has an invalid data: URI: expected "data:<media type>[;base64],<data>", got ${describeUrl(url)}.`,
    );
  }
  const payload = url.slice(comma + 1);
  const base64 = params.some((param) => param.toLowerCase() === 'base64');
  return {
    type: 'file',
    mediaType: type || (mediaType as string),
    data: { type: 'data', data: base64 ? payload : percentDecode(payload) },
  };
}

/** The bytes of a percent-encoded data URI payload (escapes are bytes, other characters UTF-8). */
function percentDecode(text: string): Uint8Array {
  const encoder = new TextEncoder();
  const bytes: number[] = [];
  for (const piece of text.split(/(%[0-9A-Fa-f]{2})/)) {
    if (/^%[0-9A-Fa-f]{2}$/.test(piece)) bytes.push(Number.parseInt(piece.slice(1), 16));
    else for (const byte of encoder.encode(piece)) bytes.push(byte);
  }
  return Uint8Array.from(bytes);
}

function imagePart(part: ImagePart, downloaded: DownloadedImages | undefined): LanguageModelV4FilePart {
  if (part.url.startsWith('data:')) return dataUriPart(part.url, part.mediaType);
  const fetched = downloaded?.get(part.url);
  if (fetched) {
    const mediaType =
      part.mediaType && isFullMediaType(part.mediaType) ? part.mediaType : (fetched.mediaType ?? part.mediaType);
    return { type: 'file', mediaType: mediaType ?? 'image', data: { type: 'data', data: fetched.data } };
  }
  let url: URL;
  try {
    url = new URL(part.url);
  } catch (error) {
    throw new LMError(
      'invalid_request',
      `An image part has an invalid URL: expected an http(s) URL or a data: URI, got ${describeUrl(part.url)}.`,
      { cause: error },
    );
  }
  const href = url.toString();
  return {
    type: 'file',
    mediaType: part.mediaType ?? 'image',
    data: href === part.url ? { type: 'url', url } : { type: 'url', url, originalUrl: part.url },
  };
}

function userContent(
  content: ContentPart[],
  downloaded: DownloadedImages | undefined,
): (LanguageModelV4TextPart | LanguageModelV4FilePart)[] {
  const parts: (LanguageModelV4TextPart | LanguageModelV4FilePart)[] = [];
  for (const part of content) {
    if (part.type === 'text') {
      // Empty text parts are dropped, as the AI SDK does (several providers reject them).
      if (part.text !== '') parts.push({ type: 'text', text: part.text });
    } else parts.push(imagePart(part, downloaded));
  }
  return parts;
}

function toolResult(message: Extract<LMMessage, { role: 'tool' }>): LanguageModelV4ToolResultPart {
  return {
    type: 'tool-result',
    toolCallId: message.toolCallId,
    toolName: message.toolName,
    output: { type: 'text', value: message.content },
  };
}

/**
 * Converts core's messages to a LanguageModelV4 prompt. Consecutive `tool` messages become one tool message; every
 * assistant tool call must be answered by a tool message before the next user or system message (providers reject
 * such prompts), else an `invalid_request` {@link LMError} names the unanswered calls.
 *
 * @param downloaded Images fetched with {@link downloadImages}, used instead of their URLs.
 */
export function toV4Prompt(messages: readonly LMMessage[], downloaded?: DownloadedImages): LanguageModelV4Prompt {
  const prompt: LanguageModelV4Message[] = [];
  let pendingCalls: Set<string> | undefined;
  const checkAnswered = (index: number) => {
    if (!pendingCalls?.size) return;
    const where = index < messages.length ? `before message ${index} (${messages[index]?.role})` : 'at the end';
    throw new LMError(
      'invalid_request',
      `Tool calls without results ${where}: expected a tool message for each of ${[...pendingCalls].join(', ')} ` +
        'after the assistant message that made them, found none.',
    );
  };
  for (const [index, message] of messages.entries()) {
    switch (message.role) {
      case 'system':
        checkAnswered(index);
        prompt.push({ role: 'system', content: textOf(message.content) });
        break;
      case 'user':
        checkAnswered(index);
        prompt.push({
          role: 'user',
          content:
            typeof message.content === 'string'
              ? [{ type: 'text', text: message.content }]
              : userContent(message.content, downloaded),
        });
        break;
      case 'assistant': {
        const text = textOf(message.content);
        if (!message.toolCalls?.length) {
          prompt.push({ role: 'assistant', content: [{ type: 'text', text }] });
          break;
        }
        const content: (LanguageModelV4TextPart | LanguageModelV4ToolCallPart)[] = [];
        if (text) content.push({ type: 'text', text });
        pendingCalls ??= new Set();
        for (const call of message.toolCalls) {
          content.push({ type: 'tool-call', toolCallId: call.id, toolName: call.name, input: call.args });
          pendingCalls.add(call.id);
        }
        prompt.push({ role: 'assistant', content });
        break;
      }
      case 'tool': {
        pendingCalls?.delete(message.toolCallId);
        const previous = prompt.at(-1);
        if (previous?.role === 'tool') previous.content.push(toolResult(message));
        else prompt.push({ role: 'tool', content: [toolResult(message)] });
        break;
      }
    }
  }
  checkAnswered(messages.length);
  return prompt;
}
