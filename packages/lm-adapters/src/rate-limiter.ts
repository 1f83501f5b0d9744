/** Limits shared by every request made through one LM object (and its `withDefaults` copies). */
export interface RateLimitOptions {
  /** Requests allowed in flight at once. Default: unlimited. */
  maxConcurrency?: number;
  /** Requests started per window (one minute unless `windowMs` says otherwise). Default: unlimited. */
  requestsPerMinute?: number;
  /** Tokens (input + output) per window; a request counts its estimate until its real usage is known. */
  tokensPerMinute?: number;
  /** Length of the sliding window the per-minute limits are counted over. Default 60,000 ms. */
  windowMs?: number;
}

/** A granted slot: call {@link Permit.release} once the request has finished. */
export interface Permit {
  /** Frees the concurrency slot and replaces the token estimate with the tokens actually used, when known. */
  release(actualTokens?: number): void;
}

interface WindowEntry {
  time: number;
  tokens: number;
}

interface Waiter {
  tokens: number;
  grant: (permit: Permit) => void;
  reject: (reason: unknown) => void;
  signal: AbortSignal | undefined;
  onAbort: () => void;
}

/**
 * A fair (FIFO) limiter combining a concurrency cap with sliding-window request and token budgets. Requests wait in
 * arrival order; a request larger than the whole token budget still runs once the window is empty, so it cannot
 * starve. Waiting honours the request's abort signal.
 */
export class RateLimiter {
  private readonly maxConcurrency: number;
  private readonly requestsPerWindow: number;
  private readonly tokensPerWindow: number;
  private readonly windowMs: number;
  private active = 0;
  private readonly window: WindowEntry[] = [];
  private readonly queue: Waiter[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(options: RateLimitOptions = {}) {
    this.maxConcurrency = options.maxConcurrency ?? Number.POSITIVE_INFINITY;
    this.requestsPerWindow = options.requestsPerMinute ?? Number.POSITIVE_INFINITY;
    this.tokensPerWindow = options.tokensPerMinute ?? Number.POSITIVE_INFINITY;
    this.windowMs = options.windowMs ?? 60_000;
    for (const [name, value] of [
      ['maxConcurrency', this.maxConcurrency],
      ['requestsPerMinute', this.requestsPerWindow],
      ['tokensPerMinute', this.tokensPerWindow],
      ['windowMs', this.windowMs],
    ] as const) {
      if (!(value > 0)) throw new RangeError(`rateLimit.${name} must be a positive number, got ${value}.`);
    }
  }

  /** True when no limit is configured (callers may skip the limiter entirely). */
  get unlimited(): boolean {
    return (
      this.maxConcurrency === Number.POSITIVE_INFINITY &&
      this.requestsPerWindow === Number.POSITIVE_INFINITY &&
      this.tokensPerWindow === Number.POSITIVE_INFINITY
    );
  }

  private get windowed(): boolean {
    return this.requestsPerWindow !== Number.POSITIVE_INFINITY || this.tokensPerWindow !== Number.POSITIVE_INFINITY;
  }

  /** Requests currently holding a slot. */
  get inFlight(): number {
    return this.active;
  }

  /** Waits for a slot for a request expected to use `estimatedTokens` tokens. */
  acquire(estimatedTokens = 0, signal?: AbortSignal): Promise<Permit> {
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise<Permit>((resolve, reject) => {
      const waiter: Waiter = {
        tokens: Math.max(0, estimatedTokens),
        grant: resolve,
        reject,
        signal,
        onAbort: () => {
          const index = this.queue.indexOf(waiter);
          if (index >= 0) this.queue.splice(index, 1);
          reject(signal?.reason);
          if (this.queue.length === 0 && this.timer) {
            clearTimeout(this.timer);
            this.timer = undefined;
          }
          this.pump();
        },
      };
      signal?.addEventListener('abort', waiter.onAbort, { once: true });
      this.queue.push(waiter);
      this.pump();
    });
  }

  /** Runs `fn` inside a slot; `tokensOf` reads the real token count from the result. */
  async run<T>(
    fn: () => Promise<T>,
    options: {
      estimatedTokens?: number;
      signal?: AbortSignal | undefined;
      tokensOf?: (result: T) => number | undefined;
    } = {},
  ): Promise<T> {
    const permit = await this.acquire(options.estimatedTokens, options.signal);
    let actual: number | undefined;
    try {
      const result = await fn();
      actual = options.tokensOf?.(result);
      return result;
    } finally {
      permit.release(actual);
    }
  }

  private prune(now: number): void {
    while (this.window.length > 0 && (this.window[0] as WindowEntry).time <= now - this.windowMs) this.window.shift();
  }

  private pump(): void {
    const now = Date.now();
    this.prune(now);
    while (this.queue.length > 0) {
      const head = this.queue[0] as Waiter;
      if (this.active >= this.maxConcurrency) return;
      const usedTokens =
        this.tokensPerWindow === Number.POSITIVE_INFINITY
          ? 0
          : this.window.reduce((sum, entry) => sum + entry.tokens, 0);
      const requestsFull = this.window.length >= this.requestsPerWindow;
      const tokensFull = this.window.length > 0 && usedTokens + head.tokens > this.tokensPerWindow;
      if (requestsFull || tokensFull) {
        this.scheduleWake(now);
        return;
      }
      this.queue.shift();
      head.signal?.removeEventListener('abort', head.onAbort);
      const entry: WindowEntry = { time: now, tokens: head.tokens };
      // Only per-window limits need the log of recent grants; a pure concurrency cap keeps it empty.
      if (this.windowed) this.window.push(entry);
      this.active++;
      let released = false;
      if (this.queue.length === 0 && this.timer) {
        clearTimeout(this.timer);
        this.timer = undefined;
      }
      head.grant({
        release: (actualTokens) => {
          if (released) return;
          released = true;
          if (actualTokens !== undefined && Number.isFinite(actualTokens)) entry.tokens = actualTokens;
          this.active--;
          this.pump();
        },
      });
    }
  }

  private scheduleWake(now: number): void {
    if (this.timer || this.window.length === 0) return;
    const oldest = this.window[0] as WindowEntry;
    const wait = Math.max(1, oldest.time + this.windowMs - now + 1);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.pump();
    }, wait);
  }
}
