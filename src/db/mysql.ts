// MariaDB access for the checks: one small mysql2 pool per (address, user) per run, and errors in words.
import { createPool, type Pool, type RowDataPacket } from 'mysql2/promise';

export interface MysqlTarget {
  host: string;
  port: number;
  user: string;
  password: string;
}

/** Why a login failed, in words a student understands. */
export function describeMysqlError(err: unknown): { kind: 'unreachable' | 'denied' | 'other'; text: string } {
  const e = err as { code?: string; errno?: number; sqlMessage?: string; message?: string };
  switch (e.code) {
    case 'ECONNREFUSED':
      return { kind: 'unreachable', text: 'connection refused (MariaDB stopped, or listening on 127.0.0.1 only)' };
    case 'ETIMEDOUT':
    case 'EHOSTUNREACH':
      return { kind: 'unreachable', text: 'no answer (host down or firewalled)' };
    case 'ER_ACCESS_DENIED_ERROR':
      return { kind: 'denied', text: `access denied (wrong password, or no such user): ${e.sqlMessage ?? ''}`.trim() };
    case 'ER_HOST_NOT_PRIVILEGED':
      return { kind: 'denied', text: `this host may not connect: ${e.sqlMessage ?? ''}`.trim() };
    case 'ER_DBACCESS_DENIED_ERROR':
    case 'ER_TABLEACCESS_DENIED_ERROR':
      return { kind: 'denied', text: `no privilege: ${e.sqlMessage ?? ''}`.trim() };
    default:
      return { kind: 'other', text: e.sqlMessage ?? e.message ?? String(err) };
  }
}

/** The pools of one run, keyed by address and user; closed together at the end. */
export class MysqlPools {
  private readonly pools = new Map<string, Pool>();

  // A pool for this target (created on first use; 2 connections are plenty for checks).
  pool(t: MysqlTarget): Pool {
    const key = `${t.user}@${t.host}:${t.port}`;
    let p = this.pools.get(key);
    if (!p) {
      p = createPool({ host: t.host, port: t.port, user: t.user, password: t.password, connectTimeout: 8000, connectionLimit: 2, maxIdle: 1, idleTimeout: 10_000 });
      this.pools.set(key, p);
    }
    return p;
  }

  // Run one query and return its rows.
  async query<T extends RowDataPacket>(t: MysqlTarget, sql: string, params: unknown[] = []): Promise<T[]> {
    const [rows] = await this.pool(t).query<T[]>(sql, params);
    return rows;
  }

  /** Drop a pool (after a denied login, so the next attempt reconnects). */
  async drop(t: MysqlTarget): Promise<void> {
    const key = `${t.user}@${t.host}:${t.port}`;
    const p = this.pools.get(key);
    this.pools.delete(key);
    await p?.end().catch(() => undefined);
  }

  async close(): Promise<void> {
    const all = [...this.pools.values()];
    this.pools.clear();
    await Promise.all(all.map((p) => p.end().catch(() => undefined)));
  }
}
