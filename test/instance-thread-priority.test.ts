/**
 * The instance's background threads (prepare workers, the index worker) run 10 nicer than its
 * main thread, which writes what they produce and serves reads (thread-priority.ts). Read from
 * the real process's threads in /proc.
 */
import { describe, it, expect, afterAll } from 'vitest';
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { startEngineWithJane, type Engine } from './helpers/engine.js';

/** Nice value of each thread of a process, by thread id. */
function threadNices(pid: number): Map<number, number> {
  const out = new Map<number, number>();
  for (const t of readdirSync(`/proc/${pid}/task`)) {
    const stat = readFileSync(`/proc/${pid}/task/${t}/stat`, 'utf8');
    out.set(Number(t), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]));
  }
  return out;
}

describe.runIf(existsSync('/proc/thread-self'))('instance thread priorities', () => {
  let engine: Engine;
  afterAll(async () => { await engine?.close(); });

  it('prepare and index workers run 10 nicer than the main thread, which keeps the process priority', async () => {
    const started = await startEngineWithJane();
    engine = started.engine;
    // An ingest starts the index worker (the prepare workers start with the instance).
    const raw = Buffer.from('From: a@example.com\r\nSubject: hello\r\nDate: Mon, 01 Jan 2024 10:00:00 +0000\r\n\r\nsome words to index\r\n');
    expect((await started.acme.ingest('jane', [{ name: 'm', folder: 'Inbox', raw }])).imported).toBe(1);
    // A search waits until the index worker has written the message: it is running by then.
    const inbox = (await started.acme.listFolders({ session: started.session })).find((f) => f.path === 'jane/Inbox')!;
    expect(await started.acme.search({ session: started.session, folderId: inbox.id, criteria: { key: 'body', value: 'words' } })).toHaveLength(1);
    const pid = engine.supervisor.get('acme')!.pid!;
    const nices = threadNices(pid);
    const base = nices.get(pid)!;
    const background = [...nices.values()].filter((n) => n === Math.min(19, base + 10));
    // At least two prepare workers and the index worker.
    expect(background.length).toBeGreaterThanOrEqual(3);
    // Everything else (V8's and libuv's threads, which compress blocks for the main thread) keeps the process priority.
    expect([...nices.values()].filter((n) => n !== base && n !== Math.min(19, base + 10))).toEqual([]);
  }, 30_000);
});
