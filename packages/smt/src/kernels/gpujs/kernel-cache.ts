/**
 * Shape-keyed cache of compiled gpu.js kernels, with verification of the mode each kernel really runs in.
 *
 * @module
 */

import type { GPU, IGPUKernelSettings, IKernelRunShortcut, KernelVariable } from 'gpu.js';
import * as gpujs from 'gpu.js';
import { KernelError } from '../kernel-error.ts';
import type { KernelSource } from './kernel-sources.ts';

/** What a cached kernel is compiled for. */
export interface KernelSpec {
  /** Kernel family, e.g. `matmulNT`; used in error messages and in {@link KernelCache.modes}. */
  name: string;
  /** The kernel function's source text (see `kernel-sources.ts`). */
  source: KernelSource;
  /** Output dimensions `[x, y?, z?]`. */
  output: readonly number[];
  /** Compile-time constants (sizes). */
  constants?: Record<string, number>;
  /**
   * Sizes of the arguments that are not implied by `output` and `constants` (for example how many compacted
   * columns an input holds). Part of the cache key, so a kernel never sees arguments of a second size.
   */
  argumentShape?: string;
}

/** Called after a kernel's first run with the mode it actually ran in; may throw to reject the mode. */
export type ModeCheck = (kernelName: string, actualMode: string) => void;

/**
 * Compiles each (kernel, shape) pair once and reuses it.
 *
 * Why one kernel per shape: gpu.js caps loops whose bound is a kernel argument at `loopMaxIterations` (1000),
 * so sizes are baked in as constants; and calling a compiled kernel with a different output size (via
 * `setOutput`) is only honoured on some backends — in `cpu` mode the old output size stays in effect and the
 * call silently returns wrong values. Keying by shape means no kernel ever sees a second shape.
 *
 * The cache is a small LRU: evicted kernels are destroyed, so a long run over many shapes (a growing KV cache
 * during generation) does not pile up GPU programs.
 */
export class KernelCache {
  private readonly entries = new Map<string, IKernelRunShortcut>();
  private readonly verified = new Set<IKernelRunShortcut>();
  private readonly modeByName = new Map<string, string>();

  constructor(
    private readonly gpu: GPU,
    private readonly checkMode: ModeCheck,
    private readonly capacity = 96,
  ) {}

  /** Runs the kernel described by `spec` (compiling it on first use) and returns gpu.js's raw result. */
  run(spec: KernelSpec, args: KernelVariable[]): unknown {
    const key = `${spec.name}|${spec.output.join('x')}|${JSON.stringify(spec.constants ?? {})}|${spec.argumentShape ?? ''}`;
    let kernel = this.entries.get(key);
    if (kernel) {
      this.entries.delete(key);
      this.entries.set(key, kernel);
    } else {
      kernel = this.compile(spec);
      this.entries.set(key, kernel);
      this.evict();
    }
    let result: unknown;
    try {
      result = kernel(...args);
    } catch (error) {
      throw new KernelError(
        `gpujs: kernel '${spec.name}' failed for output [${spec.output.join(', ')}] in mode ` +
          `'${modeOf(kernel)}': ${error instanceof Error ? error.message : String(error)}`,
        { cause: error },
      );
    }
    if (!this.verified.has(kernel)) {
      // gpu.js decides the final backend during the first run (a kernel it cannot translate degrades to the
      // cpu backend with only a console warning), so the class of the kernel that ran is read afterwards.
      const mode = modeOf(kernel);
      this.checkMode(spec.name, mode);
      this.modeByName.set(spec.name, mode);
      this.verified.add(kernel);
    }
    if (result !== null && typeof result === 'object' && typeof (result as { then?: unknown }).then === 'function') {
      throw new KernelError(
        `gpujs: kernel '${spec.name}' returned a Promise (mode '${modeOf(kernel)}'); the kernel backend contract ` +
          'is synchronous. Use a synchronous gpu.js mode (webgl2, webgl, headlessgl, webasm or cpu).',
      );
    }
    return result;
  }

  /** The mode each kernel family actually ran in so far (`{ matmulNT: 'webgl2', … }`). */
  modes(): Record<string, string> {
    return Object.fromEntries(this.modeByName);
  }

  /** Destroys every cached kernel. */
  clear(): void {
    for (const kernel of this.entries.values()) destroyQuietly(kernel);
    this.entries.clear();
    this.verified.clear();
  }

  private compile(spec: KernelSpec): IKernelRunShortcut {
    const constants = spec.constants ?? {};
    const largestLoop = Math.max(1000, ...Object.values(constants).map((v) => Math.abs(v)));
    try {
      return this.gpu.createKernel(spec.source, {
        output: [...spec.output],
        constants,
        // 'single' keeps full float32 in and out; 'unsigned' would pack values into 8-bit RGBA channels.
        precision: 'single',
        // Without it gpu.js picks the lowest float precision the output allows, which can be mediump.
        tactic: 'precision',
        // Every loop bound is a constant, which gpu.js compiles as an exact loop; should it ever treat one as
        // unbounded, its fallback cap must not cut the loop short.
        loopMaxIterations: largestLoop,
        dynamicOutput: false,
        dynamicArguments: false,
      } as IGPUKernelSettings) as IKernelRunShortcut;
    } catch (error) {
      throw new KernelError(
        `gpujs: could not compile kernel '${spec.name}': ${error instanceof Error ? error.message : String(error)}`,
        { cause: error },
      );
    }
  }

  private evict(): void {
    while (this.entries.size > this.capacity) {
      const oldest = this.entries.keys().next().value as string;
      const kernel = this.entries.get(oldest);
      this.entries.delete(oldest);
      if (kernel) {
        this.verified.delete(kernel);
        destroyQuietly(kernel);
      }
    }
  }
}

/**
 * Kernel classes of gpu.js by the mode they implement, most derived first (HeadlessGLKernel and WebGL2Kernel
 * extend WebGLKernel). The static `mode` of the GL classes is the generic `'gpu'`, so the class itself is what
 * tells WebGL 2 from WebGL from headless-gl.
 */
const KERNEL_CLASSES: ReadonlyArray<[string, string]> = [
  ['headlessgl', 'HeadlessGLKernel'],
  ['webgl2', 'WebGL2Kernel'],
  ['webgl', 'WebGLKernel'],
  ['webgpu', 'WebGPUKernel'],
  ['webasm', 'WebAssemblyKernel'],
  ['cpu', 'CPUKernel'],
];

/** The mode of the kernel instance a run shortcut currently dispatches to (after any gpu.js fallback). */
export function modeOf(kernel: IKernelRunShortcut): string {
  const inner = (kernel as { kernel?: unknown }).kernel;
  const exports = gpujs as unknown as Record<string, unknown>;
  for (const [mode, className] of KERNEL_CLASSES) {
    const KernelClass = exports[className];
    if (typeof KernelClass === 'function' && inner instanceof KernelClass) return mode;
  }
  const declared = (inner as { constructor?: { mode?: unknown } } | undefined)?.constructor?.mode;
  return typeof declared === 'string' ? declared : 'unknown';
}

function destroyQuietly(kernel: IKernelRunShortcut): void {
  try {
    kernel.destroy();
  } catch {
    // A kernel whose context is already lost has nothing left to release.
  }
}
