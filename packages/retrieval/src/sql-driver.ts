import type { PGlite } from '@electric-sql/pglite';
import type { Pool, PoolClient } from 'pg';
import { RetrievalError } from './errors.ts';

/** Runs one SQL statement with positional parameters and returns its rows. */
export interface SqlExecutor {
  /** Runs `sql` with `$1…` bound to `params`. */
  query<R>(sql: string, params?: readonly unknown[]): Promise<R[]>;
}

/**
 * The few things {@link PgVectorStore} needs from a Postgres connection, implemented once for embedded PGlite and
 * once for a `pg` pool, so both run the same SQL.
 */
export interface SqlDriver extends SqlExecutor {
  /** Human-readable target, without credentials (`PGlite (in memory)`, `postgres at 127.0.0.1:5432/db`). */
  readonly description: string;
  /** Runs `fn` inside BEGIN … COMMIT, rolling back when it throws. */
  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T>;
  /** Closes the connection(s) this driver opened; a borrowed handle is left open. */
  close(): Promise<void>;
}

/** A driver over an embedded PGlite instance. */
export class PGliteDriver implements SqlDriver {
  constructor(
    private readonly db: PGlite,
    readonly description: string,
    private readonly owned: boolean,
  ) {}

  async query<R>(sql: string, params: readonly unknown[] = []): Promise<R[]> {
    return (await this.db.query<R>(sql, params as unknown[])).rows;
  }

  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    return this.db.transaction((tx) =>
      fn({
        query: async <R>(sql: string, params: readonly unknown[] = []) =>
          (await tx.query<R>(sql, params as unknown[])).rows,
      }),
    );
  }

  async close(): Promise<void> {
    if (this.owned && !this.db.closed) await this.db.close();
  }
}

/** A driver over a `pg` connection pool talking to a Postgres server. */
export class PgPoolDriver implements SqlDriver {
  constructor(
    private readonly pool: Pool,
    readonly description: string,
  ) {}

  async query<R>(sql: string, params: readonly unknown[] = []): Promise<R[]> {
    const client = await this.connect();
    try {
      return (await client.query(sql, params as unknown[])).rows as R[];
    } finally {
      client.release();
    }
  }

  async transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    const client = await this.connect();
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      const result = await fn({
        query: async <R>(sql: string, params: readonly unknown[] = []) =>
          (await client.query(sql, params as unknown[])).rows as R[],
      });
      await client.query('COMMIT');
      return result;
    } catch (error) {
      try {
        await client.query('ROLLBACK');
      } catch (rollbackError) {
        // A connection that cannot roll back must not go back to the pool.
        broken = rollbackError as Error;
      }
      throw error;
    } finally {
      client.release(broken);
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }

  /**
   * Checks out a client. No session state is set on it: settings a query needs (`hnsw.ef_search`) are set with
   * `set_config(…, true)` inside the query's own transaction, so they neither depend on which pooled connection
   * runs it nor leak to other users of the connection.
   */
  async connect(): Promise<PoolClient> {
    try {
      return await this.pool.connect();
    } catch (error) {
      throw connectionError(this.description, error);
    }
  }
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'EPIPE',
]);

/** The network error code of `error` (looking inside an `AggregateError`), if it is one. */
export function networkErrorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && NETWORK_CODES.has(code)) return code;
  if (error instanceof AggregateError) {
    for (const inner of error.errors) {
      const innerCode = networkErrorCode(inner);
      if (innerCode) return innerCode;
    }
  }
  if (error instanceof Error && /timeout exceeded when trying to connect|Connection terminated/i.test(error.message)) {
    return 'ETIMEDOUT';
  }
  return undefined;
}

/** A {@link RetrievalError} of kind `connection` for a failed connection attempt. */
export function connectionError(target: string, error: unknown): RetrievalError {
  const code = networkErrorCode(error) ?? (error as { code?: string } | null)?.code ?? 'unknown error';
  const detail = error instanceof Error && error.message ? `: ${error.message}` : '';
  return new RetrievalError(
    'connection',
    `PgVectorStore: could not connect to ${target} (${code}${detail}). Expected a reachable Postgres server with ` +
      'the pgvector extension; check the connection string and that the server is running.',
    { cause: error },
  );
}

/** Describes a connection string for messages without leaking its password. */
export function describeConnectionString(connectionString: string): string {
  try {
    const url = new URL(connectionString);
    const database = decodeURIComponent(url.pathname.replace(/^\//, '')) || '(default database)';
    return `postgres at ${url.hostname}:${url.port || '5432'}/${database}`;
  } catch {
    return 'the postgres server named by the connection string';
  }
}
