// RabbitMQ access for the checks: one AMQP connection per run; queue probes on throw-away channels
// (a passive declare of a missing queue closes its channel with 404, which must not kill the connection).
import { connect, type ChannelModel } from 'amqplib';

export interface AmqpTarget {
  host: string;
  port: number;
  user: string;
  password: string;
  vhost: string;
}

export interface QueueState {
  exists: boolean;
  consumers: number;
  messages: number;
}

/** Why a connection failed, in words. */
export function describeAmqpError(err: unknown): { kind: 'unreachable' | 'denied' | 'other'; text: string } {
  const e = err as { code?: string; message?: string };
  const msg = e.message ?? String(err);
  if (e.code === 'ECONNREFUSED') return { kind: 'unreachable', text: 'connection refused (rabbitmq-server stopped?)' };
  if (e.code === 'ETIMEDOUT' || e.code === 'EHOSTUNREACH') return { kind: 'unreachable', text: 'no answer (host down or firewalled)' };
  if (/ACCESS_REFUSED|403/.test(msg)) return { kind: 'denied', text: 'login refused (wrong user or password)' };
  if (/NOT_ALLOWED|530|vhost/i.test(msg)) return { kind: 'denied', text: `no access to the virtual host: ${msg}` };
  return { kind: 'other', text: msg };
}

/** Build an AMQP URL (the vhost `/` is `%2F`). Contains the password: never log it. */
export function amqpUrl(t: AmqpTarget): string {
  return `amqp://${encodeURIComponent(t.user)}:${encodeURIComponent(t.password)}@${t.host}:${t.port}/${encodeURIComponent(t.vhost)}`;
}

/** One AMQP connection, opened on first use and shared by every check of the run. */
export class AmqpProbe {
  private readonly target: AmqpTarget;
  private conn: Promise<ChannelModel> | undefined;

  constructor(target: AmqpTarget) {
    this.target = target;
  }

  // Connect once; a failed connect is retried by the next caller.
  connection(): Promise<ChannelModel> {
    if (!this.conn) {
      const p = connect(amqpUrl(this.target), { timeout: 8000 });
      p.then(
        (c) => {
          c.on('error', () => undefined);
          c.on('close', () => {
            if (this.conn === p) this.conn = undefined;
          });
        },
        () => {
          if (this.conn === p) this.conn = undefined;
        },
      );
      this.conn = p;
    }
    return this.conn;
  }

  /** Does the queue exist, and how many consumers does it have? */
  async queue(name: string): Promise<QueueState> {
    const conn = await this.connection();
    const ch = await conn.createChannel();
    ch.on('error', () => undefined);
    try {
      const q = await ch.checkQueue(name);
      return { exists: true, consumers: q.consumerCount, messages: q.messageCount };
    } catch (err) {
      if (/NOT_FOUND|404/.test(err instanceof Error ? err.message : String(err))) return { exists: false, consumers: 0, messages: 0 };
      throw err;
    } finally {
      await ch.close().catch(() => undefined);
    }
  }

  async close(): Promise<void> {
    const c = this.conn;
    this.conn = undefined;
    if (c) await (await c.catch(() => undefined))?.close().catch(() => undefined);
  }
}
