/**
 * Web Access sessions in Redis, shared by several CASes behind one name (`--web-session-store
 * redis://host:6379/0`). Same three methods as the memory store; the app still enforces the idle
 * and absolute timeouts per request (app.ts), this store only keeps sessions.
 *
 * Keys (prefix `coffer:sess:` by default; session ids never contain `~`):
 *   <prefix><id>      the session as JSON, PX = the idle lifetime, renewed by every read (GETEX)
 *                     and write: sliding, like the memory store's updateAgeOnGet
 *   <prefix>~logins   hash id → {instanceId, token} of sessions holding a login
 *   <prefix>~expiry   sorted set id → when that session's key runs out (ms)
 * Redis drops an idle session by itself and never says so with its value, so the two index keys
 * keep what is needed to end the instance session behind it. Every CAS sweeps them once a minute
 * in one Lua script: a session whose key is gone is taken out of both, atomically, so exactly one
 * CAS ends its instance session (as the memory store's onDrop does). While no CAS runs, the
 * instance's own 24-hour session expiry is the backstop.
 *
 * Outages: commands time out (`commandTimeoutMs`), nothing waits in an offline queue, and the
 * client reconnects on its own; a request meanwhile fails with SessionStoreUnavailableError, which
 * the app answers with its 503 "sessions unavailable" page. Standalone Redis (or a primary behind
 * a stable address); not Redis Cluster: the sweep touches keys it cannot declare up front.
 */
import { Redis } from 'ioredis';
import type { Session } from 'fastify';
import type { Logger } from '../../common/logger.js';
import { redactUrl } from '../../common/config.js';
import { SessionStoreUnavailableError, type ClosableSessionStore, type DroppedLogin, type SessionStoreBinding } from './session-store.js';

export const DEFAULT_KEY_PREFIX = 'coffer:sess:';
/** A web request waits at most this long for Redis, then gets the 503 page instead of hanging. */
const DEFAULT_COMMAND_TIMEOUT_MS = 2_000;
/** Connecting (TCP + TLS + ready check) may take longer than one command, but not forever. */
const CONNECT_TIMEOUT_MS = 5_000;
/** Reconnect back-off: 100 ms, 200 ms, … up to 3 s between attempts, for as long as it takes. */
const RECONNECT_STEP_MS = 100;
const RECONNECT_MAX_MS = 3_000;
/** Same cadence as the memory store's sweep. */
const DEFAULT_SWEEP_INTERVAL_MS = 60_000;
/** Logins ended per sweep call; a larger backlog is worked off in further calls of the same sweep. */
const SWEEP_BATCH = 200;

/** KEYS: expiry, logins. ARGV: now (ms), key prefix, batch. Returns the logins of sessions that are gone. */
const SWEEP_SCRIPT = `
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
local gone = {}
for _, id in ipairs(due) do
  local left = redis.call('PTTL', ARGV[2] .. id)
  if left > 0 then
    -- still alive (read by another CAS whose clock runs behind): look again when it runs out
    redis.call('ZADD', KEYS[1], tonumber(ARGV[1]) + left, id)
  else
    redis.call('ZREM', KEYS[1], id)
    local login = redis.call('HGET', KEYS[2], id)
    redis.call('HDEL', KEYS[2], id)
    if login then table.insert(gone, login) end
  end
end
return gone`;

export interface RedisSessionStoreOptions extends SessionStoreBinding {
  /** `redis://[[user]:password@]host[:port][/db]` or `rediss://…` (TLS); checked by loadConfig. */
  url: string;
  keyPrefix?: string;
  commandTimeoutMs?: number;
  sweepIntervalMs?: number;
}

export class RedisSessionStore implements ClosableSessionStore {
  private readonly redis: Redis;
  private readonly log: Logger;
  private readonly ttlMs: number;
  private readonly prefix: string;
  private readonly expiryKey: string;
  private readonly loginsKey: string;
  private readonly endLogin: (login: DroppedLogin) => void;
  private readonly sweepTimer: NodeJS.Timeout;
  private readonly target: string;
  private downSince: number | null = null;
  private everReady = false;
  private closed = false;

  constructor(opts: RedisSessionStoreOptions) {
    this.ttlMs = opts.idleTtlMs;
    this.prefix = opts.keyPrefix ?? DEFAULT_KEY_PREFIX;
    this.expiryKey = `${this.prefix}~expiry`;
    this.loginsKey = `${this.prefix}~logins`;
    this.endLogin = opts.endLogin;
    this.target = redactUrl(opts.url);
    this.log = opts.log.child({ sessionStore: 'redis', redis: this.target });
    this.redis = new Redis(opts.url, {
      commandTimeout: opts.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS,
      connectTimeout: CONNECT_TIMEOUT_MS,
      // Fail at once while disconnected: a web request must not wait for a reconnect.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      autoResendUnfulfilledCommands: false,
      retryStrategy: (attempt) => Math.min(attempt * RECONNECT_STEP_MS, RECONNECT_MAX_MS),
      connectionName: 'coffer-cas-web-sessions',
    });
    this.redis.on('ready', () => {
      if (!this.everReady) this.log.info('web session store: connected to Redis');
      else if (this.downSince !== null) this.log.warn({ downMs: Date.now() - this.downSince }, 'web session store: reconnected to Redis; Web Access sessions available again');
      this.everReady = true;
      this.downSince = null;
    });
    this.redis.on('error', (err: Error) => {
      // Each failed reconnect attempt repeats the error: log the first of an outage, the rest quietly.
      if (this.downSince === null) {
        this.downSince = Date.now();
        this.log.error({ err: err.message }, 'web session store: Redis unavailable; Web Access answers 503 "sessions unavailable" until it is back (reconnecting)');
      } else this.log.debug({ err: err.message }, 'web session store: Redis still unavailable');
    });
    this.redis.on('close', () => {
      if (this.closed || this.downSince !== null || !this.everReady) return;
      this.downSince = Date.now();
      this.log.error('web session store: connection to Redis lost; Web Access answers 503 "sessions unavailable" until it is back (reconnecting)');
    });
    this.sweepTimer = setInterval(() => { void this.sweep(); }, opts.sweepIntervalMs ?? DEFAULT_SWEEP_INTERVAL_MS);
    this.sweepTimer.unref();
  }

  /** Resolves once connected (true), or false after `timeoutMs`; start-up uses it for a clear log line. */
  async waitUntilReady(timeoutMs: number): Promise<boolean> {
    if (this.redis.status === 'ready') return true;
    return new Promise((resolve) => {
      const done = (ok: boolean) => { clearTimeout(timer); this.redis.off('ready', onReady); resolve(ok); };
      const onReady = () => done(true);
      const timer = setTimeout(() => done(false), timeoutMs);
      this.redis.on('ready', onReady);
    });
  }

  get(id: string, cb: (err: unknown, session?: Session | null) => void): void {
    const key = this.prefix + id;
    this.redis.multi()
      .getex(key, 'PX', this.ttlMs)
      // Only sessions with a login are in the expiry index (XX: never adds one).
      .zadd(this.expiryKey, 'XX', Date.now() + this.ttlMs, id)
      .exec()
      .then((results) => {
        const [getErr, raw] = results?.[0] ?? [new Error('transaction aborted'), null];
        if (getErr) throw getErr;
        if (typeof raw !== 'string') return cb(null, null);
        let session: Session | null = null;
        try { session = JSON.parse(raw) as Session; }
        catch { this.log.warn({ key }, 'web session store: unreadable session in Redis, treated as absent'); }
        cb(null, session);
      })
      .catch((err: unknown) => cb(this.unavailable('get', err)));
  }

  set(id: string, session: Session, cb: (err?: unknown) => void): void {
    const login = session.login;
    const tx = this.redis.multi().set(this.prefix + id, JSON.stringify(session), 'PX', this.ttlMs);
    if (login) tx.hset(this.loginsKey, id, JSON.stringify({ instanceId: login.instanceId, token: login.token })).zadd(this.expiryKey, Date.now() + this.ttlMs, id);
    else tx.hdel(this.loginsKey, id).zrem(this.expiryKey, id);
    this.run(tx, 'set', cb);
  }

  destroy(id: string, cb: (err?: unknown) => void): void {
    this.run(this.redis.multi().del(this.prefix + id).hdel(this.loginsKey, id).zrem(this.expiryKey, id), 'destroy', cb);
  }

  /**
   * Ends the instance sessions of logins whose Redis key has run out. Safe on every CAS at once:
   * the script hands each one to a single caller. Errors wait for the next round.
   */
  async sweep(): Promise<number> {
    if (this.redis.status !== 'ready') return 0;
    let ended = 0;
    try {
      for (;;) {
        const gone = await this.redis.eval(SWEEP_SCRIPT, 2, this.expiryKey, this.loginsKey, String(Date.now()), this.prefix, String(SWEEP_BATCH)) as string[];
        for (const raw of gone) {
          try { this.endLogin(JSON.parse(raw) as DroppedLogin); ended++; } catch { /* an unreadable entry is simply gone */ }
        }
        if (gone.length < SWEEP_BATCH) break;
      }
    } catch (err) {
      this.log.debug({ err: (err as Error).message }, 'web session store: sweep of expired sessions skipped');
    }
    if (ended) this.log.info({ ended }, 'web session store: instance sessions of expired web sessions ended');
    return ended;
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.sweepTimer);
    try { await this.redis.quit(); } catch { this.redis.disconnect(); }
  }

  private run(tx: ReturnType<Redis['multi']>, op: string, cb: (err?: unknown) => void): void {
    tx.exec()
      .then((results) => {
        const failed = results ? results.find(([err]) => err)?.[0] : new Error('transaction aborted');
        if (failed) throw failed;
        cb();
      })
      .catch((err: unknown) => cb(this.unavailable(op, err)));
  }

  private unavailable(op: string, err: unknown): SessionStoreUnavailableError {
    const message = err instanceof Error ? err.message : String(err);
    return new SessionStoreUnavailableError(`web session store (Redis ${this.target}): ${op} failed: ${message}`);
  }
}
