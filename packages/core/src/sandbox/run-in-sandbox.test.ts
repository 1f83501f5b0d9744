import { describe, expect, it } from 'vitest';
import { runInSandbox } from './run-in-sandbox.ts';

const LIMITS = { timeoutMs: 300, memoryLimitBytes: 8 * 1024 * 1024 };

describe('runInSandbox', () => {
  it('returns the value passed to SUBMIT and stops the program there', async () => {
    const result = await runInSandbox(
      'const xs = [1, 2, 3];\nSUBMIT({ total: xs.reduce((a, b) => a + b) });\nthrow 1;',
    );
    expect(result).toEqual({ ok: true, value: { total: 6 }, submitted: true, logs: [] });
  });

  it('falls back to the completion value of the last expression, awaiting a promise', async () => {
    expect(await runInSandbox('const a = 20; a * 2 + 2')).toMatchObject({ ok: true, value: 42, submitted: false });
    expect(await runInSandbox('(async () => { await null; return "done"; })()')).toMatchObject({
      ok: true,
      value: 'done',
    });
  });

  it('captures console output and defines JSON globals', async () => {
    const result = await runInSandbox('console.log("n is", n, { a: 1 }); n + 1', { globals: { n: 41 } });
    expect(result).toEqual({ ok: true, value: 42, submitted: false, logs: ['n is 41 {"a":1}'] });
  });

  it('reports a program without a result', async () => {
    const result = await runInSandbox('let x = 1;');
    expect(result).toMatchObject({ ok: false, kind: 'no_result' });
    if (!result.ok) expect(result.error).toContain('SUBMIT(value)');
  });

  it('reports thrown errors and syntax errors with their location', async () => {
    const thrown = await runInSandbox('function f() { throw new TypeError("bad input"); }\nf()');
    expect(thrown).toMatchObject({ ok: false, kind: 'runtime' });
    if (!thrown.ok) expect(thrown.error).toMatch(/^TypeError: bad input\n {4}at f \(program\.js:1/);
    const syntax = await runInSandbox('const = 3');
    expect(syntax).toMatchObject({ ok: false, kind: 'syntax' });
    if (!syntax.ok) expect(syntax.error).toMatch(/^SyntaxError: /);
    expect(await runInSandbox('throw "plain"')).toMatchObject({ ok: false, error: 'Uncaught "plain"' });
  });

  describe('escapes fail cleanly with a message for the LM', () => {
    it('an infinite loop hits the time limit', async () => {
      const started = Date.now();
      const result = await runInSandbox('while (true) {}', LIMITS);
      expect(result).toMatchObject({
        ok: false,
        kind: 'timeout',
        error: 'Timeout: the code ran longer than 300 ms and was stopped.',
      });
      expect(Date.now() - started).toBeLessThan(3000);
    });

    it('a memory bomb hits the memory limit', async () => {
      const result = await runInSandbox(
        'const keep = []; while (true) keep.push({ i: keep.length, s: "item " + keep.length })',
        {
          ...LIMITS,
          timeoutMs: 2000,
        },
      );
      expect(result).toMatchObject({
        ok: false,
        kind: 'memory',
        error: 'MemoryError: the code exceeded the 8 MiB memory limit.',
      });
    });

    it('unbounded recursion hits the stack limit', async () => {
      const result = await runInSandbox('function f(n) { return f(n + 1) + 1; }\nf(0)', LIMITS);
      expect(result).toMatchObject({ ok: false, kind: 'stack' });
    });

    it('there is no process', async () => {
      const result = await runInSandbox('globalThis.process.exit(1)', LIMITS);
      expect(result).toMatchObject({ ok: false, kind: 'runtime' });
      if (!result.ok) expect(result.error).toMatch(/^TypeError: cannot read property 'exit' of undefined/);
      expect(await runInSandbox('SUBMIT([typeof process, typeof globalThis.process])')).toMatchObject({
        value: ['undefined', 'undefined'],
      });
    });

    it('there is no require', async () => {
      const result = await runInSandbox('const fs = require("fs"); fs.readFileSync("/etc/passwd", "utf8")', LIMITS);
      expect(result).toMatchObject({ ok: false, kind: 'runtime' });
      if (!result.ok) expect(result.error).toMatch(/^ReferenceError: 'require' is not defined/);
    });

    it('dynamic and static imports cannot load modules', async () => {
      const dynamic = await runInSandbox('import("fs")', LIMITS);
      expect(dynamic).toMatchObject({ ok: false, error: "ReferenceError: could not load module 'fs'" });
      const awaited = await runInSandbox('(async () => (await import("node:fs")).readFileSync("/etc/passwd"))()');
      expect(awaited).toMatchObject({ ok: false, error: "ReferenceError: could not load module 'node:fs'" });
      const staticImport = await runInSandbox('import fs from "fs";\nfs.readFileSync("/etc/passwd")', LIMITS);
      expect(staticImport).toMatchObject({ ok: false });
      if (!staticImport.ok) expect(staticImport.error).toContain("could not load module 'fs'");
    });

    it('there is no network', async () => {
      const result = await runInSandbox('fetch("http://127.0.0.1:1/")', LIMITS);
      expect(result).toMatchObject({
        ok: false,
        error: expect.stringMatching(/^ReferenceError: 'fetch' is not defined/),
      });
      expect(
        await runInSandbox('SUBMIT([typeof XMLHttpRequest, typeof WebSocket, typeof setTimeout])', LIMITS),
      ).toMatchObject({ value: ['undefined', 'undefined', 'undefined'] });
    });
  });

  it('stops when the signal is aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    expect(await runInSandbox('1', { signal: controller.signal })).toMatchObject({ ok: false, kind: 'aborted' });
  });

  it('isolates runs from each other', async () => {
    await runInSandbox('globalThis.leak = 1; 1');
    expect(await runInSandbox('typeof leak')).toMatchObject({ ok: true, value: 'undefined' });
  });
});
