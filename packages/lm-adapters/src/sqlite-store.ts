import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DatabaseSync, type StatementSync } from 'node:sqlite';

/** Options of {@link SqliteStore}. */
export interface SqliteStoreOptions {
  /** Total size (bytes of keys and values) above which least-recently-used rows are evicted. Default 1 GiB. */
  sizeLimitBytes?: number;
  /** How long a write waits for another process's lock before giving up on that write. Default 5000 ms. */
  busyTimeoutMs?: number;
  /** Receives a message when the store skips an operation or turns itself off. */
  onWarning?: (message: string) => void;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS entries (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL,
  size INTEGER NOT NULL,
  accessed_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS entries_accessed_at ON entries(accessed_at);
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT OR IGNORE INTO meta (name, value) VALUES ('total_size', 0);
CREATE TRIGGER IF NOT EXISTS entries_size_insert AFTER INSERT ON entries BEGIN
  UPDATE meta SET value = value + NEW.size WHERE name = 'total_size';
END;
CREATE TRIGGER IF NOT EXISTS entries_size_delete AFTER DELETE ON entries BEGIN
  UPDATE meta SET value = value - OLD.size WHERE name = 'total_size';
END;
CREATE TRIGGER IF NOT EXISTS entries_size_update AFTER UPDATE OF size ON entries BEGIN
  UPDATE meta SET value = value + NEW.size - OLD.size WHERE name = 'total_size';
END;
`;

function isBusy(error: unknown): boolean {
  const e = error as { errcode?: number; message?: string };
  // SQLITE_BUSY (5) and SQLITE_LOCKED (6), including their extended codes.
  const primary = typeof e.errcode === 'number' ? e.errcode & 0xff : undefined;
  return primary === 5 || primary === 6 || /database (table )?is (locked|busy)/i.test(e.message ?? '');
}

/** Ends an open transaction, if any (ROLLBACK without one fails, which is fine here). */
function rollback(db: DatabaseSync): void {
  try {
    db.exec('ROLLBACK');
  } catch {
    // No transaction was open.
  }
}

function describe(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * The persistent level of the LM cache: one SQLite file (via `node:sqlite`) that several processes can share.
 *
 * - WAL journal and a busy timeout, so readers never block and writers queue briefly;
 * - a running total of entry sizes kept by triggers (correct across processes), and eviction of the least recently
 *   used rows whenever a write pushes the total over the size limit;
 * - failures never throw: a file that cannot be opened or is corrupt turns the store off (with one warning), and a
 *   write that stays locked past the busy timeout is skipped (with one warning per kind of failure).
 */
export class SqliteStore {
  /** Path of the SQLite file. */
  readonly path: string;
  private db: DatabaseSync | undefined;
  private readonly sizeLimitBytes: number;
  private readonly warn: (message: string) => void;
  private readonly warned = new Set<string>();
  private sequence = 0;
  private statements:
    | {
        get: StatementSync;
        touch: StatementSync;
        put: StatementSync;
        total: StatementSync;
        evict: StatementSync;
        count: StatementSync;
        clear: StatementSync;
      }
    | undefined;

  constructor(path: string, options: SqliteStoreOptions = {}) {
    this.path = path;
    this.sizeLimitBytes = options.sizeLimitBytes ?? 1024 ** 3;
    this.warn = options.onWarning ?? ((message) => process.emitWarning(message, { code: 'DSPY_TS_CACHE' }));
    try {
      if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
      const db = new DatabaseSync(path);
      try {
        // A pragma rather than the constructor's `timeout` option, which older Node 22 releases lack.
        db.exec(`PRAGMA busy_timeout = ${Math.max(0, Math.floor(options.busyTimeoutMs ?? 5000))}`);
        db.exec('PRAGMA journal_mode = WAL');
        db.exec('PRAGMA synchronous = NORMAL');
        db.exec(`BEGIN IMMEDIATE; ${SCHEMA} COMMIT;`);
      } catch (error) {
        rollback(db);
        db.close();
        throw error;
      }
      this.db = db;
      this.statements = {
        get: db.prepare('SELECT value FROM entries WHERE key = ?'),
        touch: db.prepare('UPDATE entries SET accessed_at = ? WHERE key = ?'),
        put: db.prepare(
          `INSERT INTO entries (key, value, size, accessed_at) VALUES (?, ?, ?, ?)
           ON CONFLICT(key) DO UPDATE SET value = excluded.value, size = excluded.size, accessed_at = excluded.accessed_at`,
        ),
        total: db.prepare(`SELECT value FROM meta WHERE name = 'total_size'`),
        // Deletes the oldest rows until at least `?` bytes are gone: a row goes when the bytes of the rows before it
        // (oldest first) are still short of the target.
        evict: db.prepare(
          `DELETE FROM entries WHERE key IN (
             SELECT key FROM (
               SELECT key, SUM(size) OVER (ORDER BY accessed_at, key ROWS UNBOUNDED PRECEDING) - size AS before
               FROM entries
             ) WHERE before < ?
           )`,
        ),
        count: db.prepare('SELECT COUNT(*) AS n FROM entries'),
        clear: db.prepare('DELETE FROM entries'),
      };
    } catch (error) {
      this.db = undefined;
      this.warnOnce(
        'open',
        `The LM disk cache at ${path} cannot be used (${describe(error)}); continuing with the in-memory cache only. ` +
          'Delete or move the file to start a fresh disk cache.',
      );
    }
  }

  /** False once the store has turned itself off (unopenable or corrupt file). */
  get available(): boolean {
    return this.db !== undefined;
  }

  /** The stored JSON text for `key`, refreshing its recency; `undefined` when absent or unavailable. */
  get(key: string): string | undefined {
    const statements = this.statements;
    if (!statements) return undefined;
    let value: string | undefined;
    try {
      const row = statements.get.get(key) as { value: string } | undefined;
      value = row?.value;
    } catch (error) {
      this.fail('read', error);
      return undefined;
    }
    if (value !== undefined) {
      try {
        statements.touch.run(this.nextTimestamp(), key);
      } catch (error) {
        // Recency is advisory: a locked database must not turn a hit into a miss.
        this.fail('touch', error);
      }
    }
    return value;
  }

  /** Stores `value` under `key`, then evicts least-recently-used rows while the total exceeds the size limit. */
  set(key: string, value: string): void {
    const statements = this.statements;
    const db = this.db;
    if (!statements || !db) return;
    try {
      const size = Buffer.byteLength(value) + Buffer.byteLength(key);
      db.exec('BEGIN IMMEDIATE');
      try {
        statements.put.run(key, value, size, this.nextTimestamp());
        const total = Number((statements.total.get() as { value: number | bigint }).value);
        if (total > this.sizeLimitBytes) {
          // Evict down to 90% of the limit so that a full cache does not evict on every single write.
          statements.evict.run(total - Math.floor(this.sizeLimitBytes * 0.9));
        }
        db.exec('COMMIT');
      } catch (error) {
        rollback(db);
        throw error;
      }
    } catch (error) {
      this.fail('write', error);
    }
  }

  /** Number of rows (for tests and diagnostics); 0 when unavailable. */
  size(): number {
    try {
      return Number((this.statements?.count.get() as { n: number | bigint } | undefined)?.n ?? 0);
    } catch (error) {
      this.fail('read', error);
      return 0;
    }
  }

  /** Bytes of keys and values currently stored; 0 when unavailable. */
  totalBytes(): number {
    try {
      return Number((this.statements?.total.get() as { value: number | bigint } | undefined)?.value ?? 0);
    } catch (error) {
      this.fail('read', error);
      return 0;
    }
  }

  /** Deletes every row. */
  clear(): void {
    try {
      this.statements?.clear.run();
    } catch (error) {
      this.fail('write', error);
    }
  }

  /** Closes the database file. Further calls are no-ops. */
  close(): void {
    const db = this.db;
    this.db = undefined;
    this.statements = undefined;
    try {
      db?.close();
    } catch {
      // Closing a database that already failed cannot be acted upon.
    }
  }

  private nextTimestamp(): number {
    // Milliseconds scaled up with a per-process counter, so that accesses within one millisecond keep their order.
    this.sequence = (this.sequence + 1) % 1000;
    return Date.now() * 1000 + this.sequence;
  }

  private fail(operation: 'read' | 'write' | 'touch', error: unknown): void {
    if (isBusy(error)) {
      this.warnOnce(
        `busy-${operation}`,
        `The LM disk cache at ${this.path} stayed locked past the busy timeout; skipped a ${operation} ` +
          '(the request itself is unaffected).',
      );
      return;
    }
    this.warnOnce(
      'broken',
      `The LM disk cache at ${this.path} failed (${describe(error)}); continuing with the in-memory cache only. ` +
        'Delete or move the file to start a fresh disk cache.',
    );
    this.close();
  }

  private warnOnce(kind: string, message: string): void {
    if (this.warned.has(kind)) return;
    this.warned.add(kind);
    this.warn(message);
  }
}
