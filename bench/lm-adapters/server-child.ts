/**
 * Starts `server-process.ts` (the test OpenAI-compatible server) in a child process, as the throughput scripts need:
 * a server that does not share the client's event loop, like a real remote provider.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** What the server received since the previous {@link ServerChild.stats} call. */
export interface ServerStats {
  /** Chat-completion requests. */
  chat: number;
  /** Different prompts among them. */
  distinct: number;
}

/** A running server child process. */
export interface ServerChild {
  /** Base URL including `/v1`. */
  baseURL: string;
  /** Asks the server what it received since the last call, and resets its count. */
  stats(): Promise<ServerStats>;
  /** Stops the server and waits for the process to exit. */
  close(): Promise<void>;
}

/** Starts the server with `latencyMs` of latency per request and resolves once it listens. */
export async function startServerChild(latencyMs: number): Promise<ServerChild> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      '--conditions=@dspy-ts/source',
      join(dirname(fileURLToPath(import.meta.url)), 'server-process.ts'),
      String(latencyMs),
    ],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  const output = child.stdout.setEncoding('utf8');
  let buffered = '';
  const nextLine = async (): Promise<string> => {
    while (!buffered.includes('\n')) {
      const [chunk] = (await once(output, 'data')) as [string];
      buffered += chunk;
    }
    const newline = buffered.indexOf('\n');
    const line = buffered.slice(0, newline);
    buffered = buffered.slice(newline + 1);
    return line;
  };
  const baseURL = (await nextLine()).trim();
  return {
    baseURL,
    async stats() {
      child.stdin.write('stats\n');
      return JSON.parse(await nextLine()) as ServerStats;
    },
    async close() {
      child.stdin.end();
      await once(child, 'exit');
    },
  };
}
