import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LMError, type LMStreamPart } from '@dspy-ts/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { localLM, TEST_API_KEY } from '../test/local-lm.ts';
import { type OpenAIServer, startOpenAIServer } from '../test/openai-server.ts';
import { recording, replaying } from './cassette.ts';

let server: OpenAIServer;
let dir: string;
beforeEach(async () => {
  server = await startOpenAIServer();
  dir = mkdtempSync(join(tmpdir(), 'cassette-'));
});
afterEach(async () => {
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('record and replay', () => {
  it('replays recorded responses offline, deterministically, and rejects unrecorded requests clearly', async () => {
    const file = join(dir, 'nested', 'qa.jsonl');
    server.setReply((body, index) => ({ text: `reply ${index} to ${JSON.stringify(body.messages)}` }));
    const recorder = recording(localLM(server, { temperature: 0 }), file);
    const a = await recorder.generate({ messages: [{ role: 'user', content: 'first' }] });
    const b = await recorder.generate({ messages: [{ role: 'user', content: 'second' }], maxTokens: 10 });
    let streamed = '';
    for await (const part of recorder.stream?.({ messages: [{ role: 'user', content: 'third' }] }) ?? []) {
      if (part.type === 'text-delta') streamed += part.delta;
    }
    expect(server.requests).toHaveLength(3);
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(3);
    expect(readFileSync(file, 'utf8')).not.toContain(TEST_API_KEY);

    await server.close();
    const replay = replaying(file);
    expect(replay.modelId).toBe(recorder.modelId);
    // Replaying sees requests as callLM sends them: with the recorded LM's defaults merged in.
    expect(
      await replay.generate({ messages: [{ role: 'user', content: 'second' }], maxTokens: 10, temperature: 0 }),
    ).toEqual(b);
    expect(await replay.generate({ messages: [{ role: 'user', content: 'first' }], temperature: 0 })).toEqual(a);
    const parts: LMStreamPart[] = [];
    for await (const part of replay.stream({ messages: [{ role: 'user', content: 'third' }], temperature: 0 }))
      parts.push(part);
    expect(parts.at(-1)).toMatchObject({ type: 'finish', response: { choices: [{ text: streamed }] } });

    const unrecorded = replay.generate({ messages: [{ role: 'user', content: 'never asked' }], temperature: 0 });
    await expect(unrecorded).rejects.toSatisfy(
      (error: unknown) =>
        LMError.isInstance(error) &&
        error.kind === 'invalid_request' &&
        !error.isRetryable &&
        /No recorded response .*re-record/s.test(error.message),
    );
  });

  it('serves repeated recordings of one request in order, then the last again', async () => {
    const file = join(dir, 'repeat.jsonl');
    server.setReply((_body, index) => ({ text: `take ${index}` }));
    const recorder = recording(localLM(server, { cache: false }), file);
    const request = { messages: [{ role: 'user' as const, content: 'same' }] };
    await recorder.generate(request);
    await recorder.generate(request);
    const replay = replaying(file);
    const texts = [];
    for (let i = 0; i < 3; i++) texts.push((await replay.generate(request)).choices[0]?.text);
    expect(texts).toEqual(['take 0', 'take 1', 'take 1']);
  });

  it('fails clearly when the cassette does not exist', () => {
    expect(() => replaying(join(dir, 'missing.jsonl'))).toThrow(/does not exist.*recording/);
  });
});
