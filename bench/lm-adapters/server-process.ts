/**
 * Runs the test OpenAI-compatible server in its own process for the benchmark, so that server work does not share
 * the client's event loop (as with a real, remote provider). Prints the base URL on its first stdout line; argument:
 * latency in ms. Exits when stdin closes.
 */
import { startOpenAIServer } from '../../packages/lm-adapters/test/openai-server.ts';

const latencyMs = Number(process.argv[2] ?? 0);
const server = await startOpenAIServer({
  latencyMs,
  reply: () => ({ text: '[[ ## answer ## ]]\nParis\n\n[[ ## completed ## ]]' }),
});
process.stdout.write(`${server.baseURL}\n`);
process.stdin.resume();
process.stdin.on('end', () => {
  void server.close().then(() => process.exit(0));
});
