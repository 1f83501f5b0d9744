import { describe, expect, it } from 'vitest';
import { RateLimiter } from './rate-limiter.ts';

const tick = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('RateLimiter', () => {
  it('never runs more than maxConcurrency requests at once', async () => {
    const limiter = new RateLimiter({ maxConcurrency: 3 });
    let active = 0;
    let peak = 0;
    await Promise.all(
      Array.from({ length: 12 }, () =>
        limiter.run(async () => {
          active++;
          peak = Math.max(peak, active);
          await tick(5);
          active--;
        }),
      ),
    );
    expect(peak).toBe(3);
    expect(limiter.inFlight).toBe(0);
  });

  it('holds requestsPerMinute within every window', async () => {
    const windowMs = 300;
    const limiter = new RateLimiter({ requestsPerMinute: 4, windowMs });
    const started = Date.now();
    const grants: number[] = [];
    await Promise.all(
      Array.from({ length: 10 }, () => limiter.run(async () => void grants.push(Date.now() - started))),
    );
    // 10 requests at 4 per window need three windows: the last batch cannot start before two windows passed.
    expect(Math.max(...grants)).toBeGreaterThanOrEqual(2 * windowMs - 5);
    for (const t of grants) {
      expect(grants.filter((u) => u >= t && u < t + windowMs - 5).length).toBeLessThanOrEqual(4);
    }
  });

  it('charges real token usage against tokensPerMinute', async () => {
    const limiter = new RateLimiter({ tokensPerMinute: 100, windowMs: 250 });
    const started = Date.now();
    // Estimated at 10 but really 100: the second request must wait for the window to clear.
    await limiter.run(async () => 'x', { estimatedTokens: 10, tokensOf: () => 100 });
    await limiter.run(async () => 'y', { estimatedTokens: 10 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(240);
  });

  it('lets a waiting request go when its signal aborts', async () => {
    const limiter = new RateLimiter({ maxConcurrency: 1 });
    const permit = await limiter.acquire();
    const controller = new AbortController();
    const waiting = limiter.acquire(0, controller.signal);
    controller.abort(new Error('stop'));
    await expect(waiting).rejects.toThrow('stop');
    permit.release();
    const next = await limiter.acquire();
    next.release();
    expect(limiter.inFlight).toBe(0);
  });

  it('rejects nonsensical limits', () => {
    expect(() => new RateLimiter({ maxConcurrency: 0 })).toThrow(RangeError);
  });
});
