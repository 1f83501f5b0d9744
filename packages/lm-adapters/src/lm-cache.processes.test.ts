import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { localLM } from '../test/local-lm.ts';
import { type OpenAIServer, startOpenAIServer } from '../test/openai-server.ts';
import { LMCache } from './lm-cache.ts';

const run = promisify(execFile);
const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..');

let server: OpenAIServer;
let dir: string;
beforeEach(async () => {
  server = await startOpenAIServer();
  dir = mkdtempSync(join(tmpdir(), 'lm-procs-'));
});
afterEach(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Runs test/cache-child.ts in a separate Node process (the same Node 24 binary that runs the tests). */
async function child(cacheFile: string, question: string): Promise<{ text: string; cacheHit: boolean }> {
  const { stdout } = await run(
    process.execPath,
    ['--import', 'tsx', '--conditions=@dspy-ts/source', 'test/cache-child.ts', server.baseURL, cacheFile, question],
    { cwd: packageRoot, timeout: 20_000 },
  );
  return JSON.parse(stdout) as { text: string; cacheHit: boolean };
}

describe('SQLite cache shared between processes', () => {
  it('serves entries written by one process to another, in both directions', async () => {
    const file = join(dir, 'shared.sqlite');
    const cache = new LMCache({ disk: file });
    try {
      const lm = localLM(server, { cache });
      await lm.generate({ messages: [{ role: 'user', content: 'from parent' }] });
      expect(server.requests).toHaveLength(1);

      // The child finds the parent's entry on disk, and adds one of its own.
      expect(await child(file, 'from parent')).toEqual({ text: 'echo: from parent', cacheHit: true });
      expect(await child(file, 'from child')).toEqual({ text: 'echo: from child', cacheHit: false });
      expect(server.requests).toHaveLength(2);

      // The parent reads the child's entry without asking the server.
      const response = await lm.generate({ messages: [{ role: 'user', content: 'from child' }] });
      expect(response).toMatchObject({ cacheHit: true, choices: [{ text: 'echo: from child' }] });
      expect(server.requests).toHaveLength(2);
    } finally {
      cache.close();
    }
  });
});
