/**
 * Renders outputs that the guides show verbatim — the messages the ChatAdapter builds for
 * `snippets/inspect-prompt.ts` — into `.generated/` (git-ignored), where the pages include them. They are produced
 * by the code at build time, so they cannot drift from it.
 *
 * Usage: tsx --conditions=@dspy-ts/source scripts/render-examples.ts
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const docsDir = dirname(dirname(fileURLToPath(import.meta.url)));
const outDir = join(docsDir, '.generated');

function fence(text: string): string {
  const longest = Math.max(2, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
  return '`'.repeat(longest + 1);
}

// The snippet logs the messages when it runs; the page shows them in its own layout instead.
const log = console.log;
console.log = () => {};
const { messages } = await import('../snippets/inspect-prompt.ts');
console.log = log;

const blocks = messages.map(({ role, content }, i) => {
  const text = typeof content === 'string' ? content : JSON.stringify(content, null, 2);
  const f = fence(text);
  return `**Message ${i + 1} — \`${role}\`**\n\n${f}text\n${text}\n${f}\n`;
});
await mkdir(outDir, { recursive: true });
await writeFile(join(outDir, 'chat-adapter-prompt.md'), `${blocks.join('\n')}`);
console.log(`Rendered ${messages.length} ChatAdapter messages → .generated/chat-adapter-prompt.md`);
