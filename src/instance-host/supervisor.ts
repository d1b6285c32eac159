/**
 * Supervises one child process per instance (DESIGN.md §1 isolation): start, stop, restart,
 * freeze, thaw, Safe Mode; restarts a crashed instance whose start mode is `automatic`, with a
 * growing delay, and records why it stopped (`startStopError`).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import os from 'node:os';
import path from 'node:path';
import { EventEmitter } from 'node:events';
import type { Logger } from '../common/logger.js';

export type StartMode = 'automatic' | 'manual' | 'disabled';
export type InstanceStatus = 'running' | 'stopped' | 'starting' | 'stopping' | 'frozen' | 'safeMode' | 'error';

export interface InstanceSpec { instanceId: string; baseDir: string; startMode: StartMode }

export interface InstanceState {
  instanceId: string;
  baseDir: string;
  startMode: StartMode;
  status: InstanceStatus;
  startStopError: string | null;
  pid: number | null;
  port: number | null;
  token: string | null;
  frozen: boolean;
  safeMode: boolean;
  restarts: number;
}

/** The compiled entry point; tests run this module from src/ under vitest, the child still runs from dist/. */
const HERE = path.dirname(fileURLToPath(import.meta.url));
const INSTANCE_MAIN = existsSync(path.join(HERE, '..', 'instance', 'main.js'))
  ? path.join(HERE, '..', 'instance', 'main.js')
  : path.join(HERE, '..', '..', 'dist', 'instance', 'main.js');
/**
 * On a machine with two cores or fewer, V8's garbage collector helper threads compete with the
 * instance's own prepare workers for the same cores: with the collection done on each isolate's
 * own thread, ingest took 13 % less CPU per message (9.1 -> 7.9 CPU seconds for 4,000 generated
 * messages) and IMAP reads were unchanged. With more cores the helpers are free time, and stay.
 */
/**
 * Young generation of at least 16 MB per semi-space: ingest churns through short-lived strings
 * and objects (prepared messages, index text), and V8 left the young generation at its initial
 * size, scavenging every 30 ms or so (428 scavenges for 10,000 generated messages, 171 with this;
 * 2.21 -> 2.00 ms of CPU per message). Pages are committed as they are used: an idle instance's
 * RSS is unchanged (86 -> 91 MB).
 */
const INSTANCE_V8_FLAGS = [...(os.availableParallelism() <= 2 ? ['--single-threaded-gc'] : []), '--min-semi-space-size=16'];
/** A start that does not report ready in this time is a failed start. */
const START_TIMEOUT_MS = 60_000;
/** Time an instance gets to close its databases before it is killed. */
const STOP_TIMEOUT_MS = 20_000;
const MAX_RESTART_DELAY_MS = 60_000;

interface Entry extends InstanceState { child: ChildProcess | null; stderrTail: string; wantRunning: boolean; restartTimer: NodeJS.Timeout | null }

export class InstanceSupervisor extends EventEmitter {
  private entries = new Map<string, Entry>();

  constructor(private log: Logger) { super(); }

  list(): InstanceState[] { return [...this.entries.values()].map((e) => this.view(e)); }
  get(id: string): InstanceState | undefined { const e = this.entries.get(id); return e ? this.view(e) : undefined; }

  private view(e: Entry): InstanceState {
    const { child: _c, stderrTail: _s, wantRunning: _w, restartTimer: _r, ...state } = e;
    return { ...state };
  }

  /** Registers (or updates) an instance; does not start it. */
  define(spec: InstanceSpec): InstanceState {
    mkdirSync(spec.baseDir, { recursive: true });
    let e = this.entries.get(spec.instanceId);
    if (!e) {
      e = { ...spec, status: 'stopped', startStopError: null, pid: null, port: null, token: null, frozen: false, safeMode: false, restarts: 0, child: null, stderrTail: '', wantRunning: false, restartTimer: null };
      this.entries.set(spec.instanceId, e);
    } else { e.baseDir = spec.baseDir; e.startMode = spec.startMode; }
    return this.view(e);
  }

  async remove(id: string): Promise<void> {
    await this.stop(id);
    this.entries.delete(id);
  }

  private need(id: string): Entry {
    const e = this.entries.get(id);
    if (!e) throw new Error(`instance ${id} is not known on this Instance Host`);
    return e;
  }

  private setStatus(e: Entry, status: InstanceStatus, error?: string | null): void {
    e.status = status;
    if (error !== undefined) e.startStopError = error;
    this.emit('status', this.view(e));
  }

  async start(id: string, opts: { safeMode?: boolean } = {}): Promise<InstanceState> {
    const e = this.need(id);
    if (e.startMode === 'disabled') throw new Error(`instance ${id} is disabled (start mode); change its start mode first`);
    if (opts.safeMode !== undefined) e.safeMode = opts.safeMode;
    e.wantRunning = true;
    if (e.child) return this.view(e);
    await this.spawn(e);
    return this.view(e);
  }

  private spawn(e: Entry): Promise<void> {
    if (e.restartTimer) { clearTimeout(e.restartTimer); e.restartTimer = null; }
    e.token = randomBytes(32).toString('base64url');
    e.stderrTail = '';
    this.setStatus(e, 'starting', null);
    const child = fork(INSTANCE_MAIN, [], {
      execArgv: [...process.execArgv, ...INSTANCE_V8_FLAGS],
      env: { ...process.env, COFFER_INSTANCE_ID: e.instanceId, COFFER_INSTANCE_BASE: e.baseDir, COFFER_INSTANCE_TOKEN: e.token, COFFER_SAFE_MODE: e.safeMode ? '1' : '0' },
      stdio: ['ignore', 'inherit', 'pipe', 'ipc'],
      serialization: 'json',
    });
    e.child = child;
    e.pid = child.pid ?? null;
    // Instance processes never keep the host alive by themselves: when the host ends, they see the
    // IPC channel close and stop cleanly (instance/main.ts).
    child.unref();
    child.channel?.unref();
    (child.stderr as unknown as { _handle?: { unref?: () => void } })?._handle?.unref?.();
    child.stderr!.on('data', (d: Buffer) => { process.stderr.write(d); e.stderrTail = (e.stderrTail + d.toString()).slice(-2000); });
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => { child.kill('SIGKILL'); }, START_TIMEOUT_MS);
      child.on('message', (m: { type: string; port?: number; message?: string }) => {
        if (m.type === 'ready') {
          clearTimeout(timer);
          e.port = m.port!;
          e.restarts = 0;
          this.setStatus(e, e.frozen ? 'frozen' : e.safeMode ? 'safeMode' : 'running', null);
          resolve();
        } else this.emit(`child:${e.instanceId}`, m);
      });
      child.on('exit', (code, signal) => {
        clearTimeout(timer);
        const wasStarting = e.status === 'starting';
        e.child = null; e.pid = null; e.port = null; e.frozen = false;
        if (!e.wantRunning) { this.setStatus(e, 'stopped', null); resolve(); return; }
        const why = `instance process exited (${signal ?? `code ${code}`})${e.stderrTail ? `: ${lastLine(e.stderrTail)}` : ''}`;
        this.log.error({ instance: e.instanceId, code, signal }, why);
        this.setStatus(e, 'error', why);
        if (wasStarting) { e.wantRunning = false; reject(new Error(why)); return; }
        if (e.startMode === 'automatic') {
          const delay = Math.min(1000 * 2 ** e.restarts, MAX_RESTART_DELAY_MS);
          e.restarts++;
          e.restartTimer = setTimeout(() => { e.restartTimer = null; if (e.wantRunning && !e.child) this.spawn(e).catch(() => {}); }, delay);
        }
      });
    });
  }

  async stop(id: string): Promise<InstanceState> {
    const e = this.need(id);
    e.wantRunning = false;
    if (e.restartTimer) { clearTimeout(e.restartTimer); e.restartTimer = null; }
    const child = e.child;
    if (!child) { if (e.status !== 'error') this.setStatus(e, 'stopped'); return this.view(e); }
    this.setStatus(e, 'stopping');
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
      child.once('exit', () => { clearTimeout(timer); resolve(); });
      if (child.connected) child.send({ type: 'stop' }); else child.kill('SIGTERM');
    });
    return this.view(e);
  }

  async restart(id: string): Promise<InstanceState> { await this.stop(id); return this.start(id); }

  private async ask(e: Entry, msg: object, reply: string): Promise<void> {
    if (!e.child || !e.child.connected) throw new Error(`instance ${e.instanceId} is not running`);
    const child = e.child;
    await new Promise<void>((resolve, reject) => {
      const onMsg = (m: { type: string; message?: string }) => {
        if (m.type === reply) { this.off(`child:${e.instanceId}`, onMsg); resolve(); }
        else if (m.type === 'error') { this.off(`child:${e.instanceId}`, onMsg); reject(new Error(m.message)); }
      };
      this.on(`child:${e.instanceId}`, onMsg);
      child.send(msg);
    });
  }

  async freeze(id: string): Promise<InstanceState> {
    const e = this.need(id);
    await this.ask(e, { type: 'freeze' }, 'frozen');
    e.frozen = true;
    this.setStatus(e, 'frozen');
    return this.view(e);
  }

  async thaw(id: string): Promise<InstanceState> {
    const e = this.need(id);
    await this.ask(e, { type: 'thaw' }, 'thawed');
    e.frozen = false;
    this.setStatus(e, e.safeMode ? 'safeMode' : 'running');
    return this.view(e);
  }

  setSafeMode(id: string, on: boolean): InstanceState {
    const e = this.need(id);
    e.safeMode = on;
    if (e.child?.connected) { e.child.send({ type: 'safeMode', on }); this.setStatus(e, e.frozen ? 'frozen' : on ? 'safeMode' : 'running'); }
    return this.view(e);
  }

  /** Kills an instance process abruptly (tests and crash drills). */
  kill(id: string, signal: NodeJS.Signals = 'SIGKILL'): void { this.need(id).child?.kill(signal); }

  async stopAll(): Promise<void> { await Promise.all([...this.entries.keys()].map((id) => this.stop(id).catch(() => {}))); }
}

function lastLine(s: string): string {
  const lines = s.trim().split('\n');
  return lines[lines.length - 1]!.slice(0, 500);
}
