import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** Vitest global setup: compiles the AssemblyScript kernels when the generated module is missing or stale. */
export default function setup(): void {
  const script = fileURLToPath(new URL('../scripts/build-wasm.mjs', import.meta.url));
  execFileSync(process.execPath, [script], { stdio: 'inherit' });
}
