import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { Signature } from '../signature/signature.ts';
import type { Adapter } from './adapter.ts';
import { ChatAdapter } from './chat-adapter.ts';
import { JSONAdapter } from './json-adapter.ts';
import type { ChatMessage } from './types.ts';
import { XMLAdapter } from './xml-adapter.ts';

/** One golden case recorded from DSPy 3.3.1's adapter exact-format tests. */
interface Fixture {
  adapter: 'ChatAdapter' | 'JSONAdapter' | 'XMLAdapter';
  signature: string;
  instructions: string | null;
  demos: Record<string, unknown>[];
  inputs: Record<string, unknown>;
  types?: Record<string, string>;
  expected_messages: ChatMessage[];
  upstream_test: string;
}

const FIXTURE_DIR = fileURLToPath(new URL('../../../../../shared/fixtures/dspy-adapters/', import.meta.url));

// The fixtures describe their pydantic models in prose; these zod schemas are the same models.
const Address = z.object({ city: z.string(), country: z.string() });
const CUSTOM_TYPES: Record<string, z.ZodType> = {
  Person: z.object({ name: z.string(), address: Address, tags: z.array(z.string()) }).meta({ title: 'Person' }),
  Summary: z
    .object({ headline: z.string().meta({ title: 'Headline' }), score: z.number().meta({ title: 'Score' }) })
    .meta({ title: 'Summary' }),
};

function adapterFor(name: Fixture['adapter']): Adapter {
  if (name === 'JSONAdapter') return new JSONAdapter();
  if (name === 'XMLAdapter') return new XMLAdapter();
  return new ChatAdapter();
}

const files = readdirSync(FIXTURE_DIR).filter((f) => f.endsWith('.json'));

describe('DSPy golden fixtures', () => {
  it('finds the fixture directory', () => {
    expect(files.length).toBeGreaterThanOrEqual(5);
  });

  for (const file of files) {
    const fixture = JSON.parse(readFileSync(`${FIXTURE_DIR}${file}`, 'utf8')) as Fixture;
    it(`${file} matches ${fixture.upstream_test} byte for byte`, () => {
      const types = Object.fromEntries(Object.keys(fixture.types ?? {}).map((name) => [name, CUSTOM_TYPES[name]!]));
      const signature = Signature.parse(fixture.signature, fixture.instructions ?? undefined, { types });
      const messages = adapterFor(fixture.adapter).format(signature, fixture.demos, fixture.inputs);
      expect(messages).toEqual(fixture.expected_messages);
    });
  }
});
