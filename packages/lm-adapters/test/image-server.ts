/**
 * A local HTTP server that serves test images: `/cat.png` (PNG bytes, `image/png`), `/plain.bin` (the same bytes
 * without a content type) and 404 for anything else. Counts the requests it receives.
 *
 * Image downloads refuse loopback addresses (protection against server-side request forgery), so tests address the
 * server as {@link IMAGES_ORIGIN} and route that host to it with {@link ImageServer.fetch}.
 *
 * @module
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** The first bytes of a PNG file: what `/cat.png` serves. */
export const PNG_BYTES = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 1, 2, 3, 4]);

/** The public-looking origin that {@link ImageServer.fetch} routes to the local server. */
export const IMAGES_ORIGIN = 'http://images.test';

/** A running image server. */
export interface ImageServer {
  /** `http://127.0.0.1:<port>`. */
  readonly origin: string;
  /** `fetch` that sends requests for {@link IMAGES_ORIGIN} to this server and all others on unchanged. */
  readonly fetch: typeof fetch;
  /** Paths requested so far, in order. */
  readonly requests: string[];
  close(): Promise<void>;
}

/** Starts an {@link ImageServer} on a free port of 127.0.0.1. */
export async function startImageServer(): Promise<ImageServer> {
  const requests: string[] = [];
  const server = createServer((request, response) => {
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    requests.push(path);
    if (path === '/cat.png') {
      response.writeHead(200, { 'content-type': 'image/png' });
      response.end(PNG_BYTES);
    } else if (path === '/plain.bin') {
      response.writeHead(200);
      response.end(PNG_BYTES);
    } else {
      response.writeHead(404, { 'content-type': 'text/plain' });
      response.end('not found');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const origin = `http://127.0.0.1:${port}`;
  const realFetch = globalThis.fetch;
  const routed = (input: string | URL | Request, init?: RequestInit) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    if (url.origin !== IMAGES_ORIGIN) return realFetch(input, init);
    return realFetch(`${origin}${url.pathname}${url.search}`, init);
  };
  return {
    origin,
    fetch: routed as typeof fetch,
    requests,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
