/**
 * Runs the test OpenAI-compatible server in its own process for the benchmark, so that server work does not share
 * the client's event loop (as with a real, remote provider). Prints the base URL on its first stdout line; argument:
 * latency in ms. Exits when stdin closes. Each line `stats` on stdin is answered with one JSON line on stdout,
 * `{ "chat": n, "distinct": d }`: the chat-completion requests received since the previous `stats` line and how many
 * different prompts they carried, so the client can prove that no request was sent twice.
 */
import { startOpenAIServer } from '../../packages/lm-adapters/test/openai-server.ts';

const latencyMs = Number(process.argv[2] ?? 0);
const server = await startOpenAIServer({
  latencyMs,
  reply: () => ({ text: '[[ ## answer ## ]]\nParis\n\n[[ ## completed ## ]]' }),
});
process.stdout.write(`${server.baseURL}\n`);
process.stdin.setEncoding('utf8');
let pending = '';
process.stdin.on('data', (chunk: string) => {
  pending += chunk;
  for (let newline = pending.indexOf('\n'); newline >= 0; newline = pending.indexOf('\n')) {
    const command = pending.slice(0, newline).trim();
    pending = pending.slice(newline + 1);
    if (command !== 'stats') continue;
    const received = server.requests.splice(0);
    const chat = received.filter((request) => request.path.endsWith('/chat/completions'));
    const prompts = new Set(chat.map((request) => JSON.stringify(request.body.messages)));
    process.stdout.write(`${JSON.stringify({ chat: chat.length, distinct: prompts.size })}\n`);
  }
});
process.stdin.on('end', () => {
  void server.close().then(() => process.exit(0));
});
