import type { QuickJSContext, QuickJSHandle, QuickJSRuntime } from 'quickjs-emscripten';
import { loadQuickJS } from './load-quickjs.ts';

/** Options of {@link runInSandbox}. */
export interface SandboxOptions {
  /** Wall-clock budget for running the code, in milliseconds (default 1000). The code is interrupted after it. */
  timeoutMs?: number;
  /** Heap limit of the interpreter, in bytes (default 32 MiB). Allocation beyond it fails with "out of memory". */
  memoryLimitBytes?: number;
  /** Interpreter stack limit, in bytes (default 256 KiB); deep recursion fails with "stack overflow". */
  maxStackSizeBytes?: number;
  /** JSON-serializable values defined as global variables before the code runs. */
  globals?: Record<string, unknown>;
  /** Stops the code (like a timeout) when aborted. */
  signal?: AbortSignal;
}

/** Why sandboxed code failed. */
export type SandboxErrorKind = 'timeout' | 'aborted' | 'memory' | 'stack' | 'syntax' | 'runtime' | 'no_result';

/** The outcome of {@link runInSandbox}. */
export type SandboxResult =
  | {
      /** The code finished and produced a value. */
      ok: true;
      /** The value passed to `SUBMIT(value)`, else the completion value of the script (its last expression). */
      value: unknown;
      /** True when the value came from `SUBMIT`. */
      submitted: boolean;
      /** Lines written with `console.log` / `info` / `warn` / `error`. */
      logs: string[];
    }
  | {
      /** The code failed. */
      ok: false;
      /** A message meant for the LM that wrote the code: the error name, message and location. */
      error: string;
      /** What kind of failure it was. */
      kind: SandboxErrorKind;
      /** Lines written with `console.*` before the failure. */
      logs: string[];
    };

const DEFAULT_TIMEOUT_MS = 1000;
const DEFAULT_MEMORY_LIMIT = 32 * 1024 * 1024;
const DEFAULT_STACK_SIZE = 256 * 1024;
const MAX_LOG_LINES = 1000;
const MAX_LOG_CHARS = 64 * 1024;
const FILE_NAME = 'program.js';

interface DumpedError {
  name?: unknown;
  message?: unknown;
  stack?: unknown;
}

function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${+(bytes / (1024 * 1024)).toFixed(1)} MiB`;
  if (bytes >= 1024) return `${+(bytes / 1024).toFixed(1)} KiB`;
  return `${bytes} bytes`;
}

function describeThrown(thrown: unknown): { text: string; name: string; message: string } {
  if (typeof thrown === 'object' && thrown !== null && 'message' in thrown) {
    const { name, message, stack } = thrown as DumpedError;
    const head = `${typeof name === 'string' && name ? name : 'Error'}: ${String(message)}`;
    const frames = typeof stack === 'string' ? stack.trimEnd() : '';
    return {
      text: frames ? `${head}\n${frames}` : head,
      name: typeof name === 'string' ? name : 'Error',
      message: String(message),
    };
  }
  const text = `Uncaught ${typeof thrown === 'string' ? JSON.stringify(thrown) : String(thrown)}`;
  return { text, name: '', message: text };
}

/**
 * Runs untrusted JavaScript (typically written by an LM) in QuickJS compiled to WebAssembly, in a fresh
 * interpreter instance per call, with a time limit (an interrupt handler), a heap limit and a stack limit.
 *
 * The code sees only the ECMAScript built-ins plus `SUBMIT(value)`, a capturing `console`, and any `globals`:
 * there is no `process`, `require`, `import` (static or dynamic), `fetch`, timers, network or filesystem. Using
 * one of them fails like any other error, with the interpreter's message (e.g. `ReferenceError: 'require' is not
 * defined`).
 *
 * **How the code reports its result:** calling `SUBMIT(value)` stops the program and makes `value` the result
 * (the first call wins). Without `SUBMIT`, the result is the script's completion value — the value of the last
 * expression statement — and when that is a promise it is awaited (pending jobs are run within the time limit).
 * Results cross the boundary as JSON-compatible data. A script that produces `undefined` fails with kind
 * `no_result`.
 *
 * The interpreter runs synchronously on the calling thread, so the event loop is blocked for at most about
 * `timeoutMs`.
 *
 * @throws {ConfigurationError} when the optional package `quickjs-emscripten` is not installed.
 *
 * @example
 * ```ts
 * const result = await runInSandbox('const xs = [1, 2, 3]; SUBMIT(xs.reduce((a, b) => a + b))', { timeoutMs: 200 });
 * if (result.ok) result.value; // 6
 * else result.error;           // e.g. "Timeout: the code ran longer than 200 ms and was stopped."
 * ```
 */
export async function runInSandbox(code: string, options: SandboxOptions = {}): Promise<SandboxResult> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const memoryLimit = options.memoryLimitBytes ?? DEFAULT_MEMORY_LIMIT;
  const stackSize = options.maxStackSizeBytes ?? DEFAULT_STACK_SIZE;
  const logs: string[] = [];
  const fail = (kind: SandboxErrorKind, error: string): SandboxResult => ({ ok: false, error, kind, logs });

  const { newQuickJSWASMModule } = await loadQuickJS();
  // A fresh WebAssembly instance per run (a few milliseconds): nothing a program does, including crashing the
  // interpreter, can leak into another run.
  const quickjs = await newQuickJSWASMModule();
  if (options.signal?.aborted) return fail('aborted', 'Aborted: the run was cancelled before it started.');

  const runtime: QuickJSRuntime = quickjs.newRuntime();
  runtime.setMemoryLimit(memoryLimit);
  runtime.setMaxStackSize(stackSize);
  const deadline = Date.now() + timeoutMs;
  let stopReason: 'timeout' | 'aborted' | undefined;
  runtime.setInterruptHandler(() => {
    if (options.signal?.aborted) stopReason = 'aborted';
    else if (Date.now() > deadline) stopReason = 'timeout';
    return stopReason !== undefined;
  });
  const vm: QuickJSContext = runtime.newContext();

  let submitted = false;
  let submittedValue: unknown;
  let crashed = false;
  try {
    installGlobals(vm, logs, options.globals ?? {}, (value) => {
      if (!submitted) {
        submitted = true;
        submittedValue = value;
      }
    });

    const evaluated = vm.evalCode(code, FILE_NAME);
    let thrown: unknown;
    let value: unknown;
    if (evaluated.error) {
      thrown = vm.dump(evaluated.error);
      evaluated.error.dispose();
    } else {
      const settled = settle(vm, runtime, evaluated.value);
      evaluated.value.dispose();
      thrown = settled.thrown;
      value = settled.value;
    }

    if (submitted) return { ok: true, value: submittedValue, submitted: true, logs };
    if (stopReason === 'timeout') {
      return fail('timeout', `Timeout: the code ran longer than ${timeoutMs} ms and was stopped.`);
    }
    if (stopReason === 'aborted') return fail('aborted', 'Aborted: the run was cancelled.');
    if (thrown !== undefined) {
      const described = describeThrown(thrown);
      if (described.message === 'out of memory') {
        return fail('memory', `MemoryError: the code exceeded the ${formatBytes(memoryLimit)} memory limit.`);
      }
      if (described.message === 'stack overflow') {
        return fail('stack', `RangeError: stack overflow (recursion too deep).\n${described.text}`);
      }
      return fail(described.name === 'SyntaxError' ? 'syntax' : 'runtime', described.text);
    }
    if (value === undefined) {
      return fail(
        'no_result',
        'The code produced no result: call SUBMIT(value) with the result, or end the program with an expression.',
      );
    }
    return { ok: true, value, submitted: false, logs };
  } catch (error) {
    // The host engine's own stack can overflow before the interpreter's limit is reached.
    crashed = true;
    if (submitted) return { ok: true, value: submittedValue, submitted: true, logs };
    if (error instanceof RangeError) return fail('stack', 'RangeError: stack overflow (recursion too deep).');
    return fail('runtime', `InternalError: the interpreter failed: ${String(error)}`);
  } finally {
    if (!crashed) {
      try {
        vm.dispose();
        runtime.dispose();
      } catch {
        // The instance is discarded with this run anyway; a failed cleanup cannot affect later runs.
      }
    }
  }
}

/** Resolves the completion value: runs pending jobs and unwraps a promise. */
function settle(
  vm: QuickJSContext,
  runtime: QuickJSRuntime,
  handle: QuickJSHandle,
): { value?: unknown; thrown?: unknown } {
  const jobs = runtime.executePendingJobs(-1);
  let jobError: unknown;
  if (jobs.error) {
    jobError = vm.dump(jobs.error);
    jobs.error.dispose();
  }
  const state = vm.getPromiseState(handle);
  if (state.type === 'fulfilled') {
    if (state.notAPromise) return jobError === undefined ? { value: vm.dump(handle) } : { thrown: jobError };
    const value = vm.dump(state.value);
    state.value.dispose();
    return jobError === undefined ? { value } : { thrown: jobError };
  }
  if (state.type === 'rejected') {
    const thrown = vm.dump(state.error);
    state.error.dispose();
    return { thrown };
  }
  return {
    thrown: jobError ?? {
      name: 'Error',
      message: 'the program ended with a promise that never settled (there are no timers or I/O in the sandbox)',
    },
  };
}

function installGlobals(
  vm: QuickJSContext,
  logs: string[],
  globals: Record<string, unknown>,
  onSubmit: (value: unknown) => void,
): void {
  let logChars = 0;
  const submit = vm.newFunction('SUBMIT', (...args) => {
    onSubmit(args.length === 0 ? null : vm.dump(args[0] as QuickJSHandle));
    // Unwinds the program: nothing after SUBMIT runs (unless the program catches it, which changes nothing).
    throw new Error('SUBMIT called: the program is finished.');
  });
  vm.setProp(vm.global, 'SUBMIT', submit);
  submit.dispose();

  const consoleObject = vm.newObject();
  for (const method of ['log', 'info', 'warn', 'error', 'debug']) {
    const fn = vm.newFunction(method, (...args) => {
      const line = args
        .map((arg) => {
          const value = vm.dump(arg);
          return typeof value === 'string' ? value : (JSON.stringify(value) ?? String(value));
        })
        .join(' ');
      if (logs.length < MAX_LOG_LINES && logChars < MAX_LOG_CHARS) {
        const kept = line.slice(0, MAX_LOG_CHARS - logChars);
        logChars += kept.length;
        logs.push(kept);
      }
    });
    vm.setProp(consoleObject, method, fn);
    fn.dispose();
  }
  vm.setProp(vm.global, 'console', consoleObject);
  consoleObject.dispose();

  for (const [name, value] of Object.entries(globals)) {
    const json = vm.newString(JSON.stringify(value) ?? 'null');
    const parsed = vm.evalCode('(text) => JSON.parse(text)');
    if (parsed.error) {
      parsed.error.dispose();
      json.dispose();
      continue;
    }
    const result = vm.callFunction(parsed.value, vm.undefined, json);
    parsed.value.dispose();
    json.dispose();
    if (result.error) {
      result.error.dispose();
      continue;
    }
    vm.setProp(vm.global, name, result.value);
    result.value.dispose();
  }
}
