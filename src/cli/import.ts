/**
 * `coffer import --instance ID --user NAME [--folder PATH] FILE_OR_DIR…`: archives .eml files,
 * directories of them, mbox files and Maildir folders into `NAME/PATH/…` of a running instance.
 * Re-running it never duplicates a message in a folder (the instance skips identical content).
 */
import { existsSync } from 'node:fs';
import { loadConfig, type CofferConfig } from '../common/config.js';
import { InstanceClient } from '../instance/client.js';
import { readSources, type SourceMessage } from './import-sources.js';
import { localHost } from './local-host.js';
import { MAX_MESSAGE_BYTES } from '../common/rpc/frames.js';

/** A batch is sent when it reaches either bound: fewer round trips, bounded memory. */
const BATCH_MESSAGES = 1000;
const BATCH_BYTES = 32 * 1024 * 1024;

export interface ImportSummary { messages: number; imported: number; duplicates: number; broken: number; failed: number; skippedFiles: number; ignoredFiles: number; bytes: number; seconds: number }

export const IMPORT_USAGE = 'usage: coffer import --instance ID --user NAME [--folder PATH] [--data DIR] [--port-offset N] FILE_OR_DIR…';

class ProgressBar {
  private last = 0;
  constructor(private enabled: boolean) {}
  update(s: ImportSummary): void {
    if (!this.enabled) return;
    const now = Date.now();
    if (now - this.last < 100) return;
    this.last = now;
    const rate = s.seconds > 0 ? Math.round(s.messages / s.seconds) : 0;
    const spin = '|/-\\'[Math.floor(now / 150) % 4];
    process.stderr.write(`\r${spin} ${s.messages} messages (${(s.bytes / 1048576).toFixed(1)} MB, ${rate}/s): ${s.imported} imported, ${s.duplicates} duplicates, ${s.broken} broken-but-stored, ${s.failed} failed   `);
  }
  done(): void { if (this.enabled) process.stderr.write('\n'); }
}

export async function runImport(config: CofferConfig, opts: { instance: string; user: string; folder: string; inputs: string[]; quiet?: boolean }): Promise<ImportSummary> {
  for (const i of opts.inputs) if (!existsSync(i)) throw new Error(`${i}: no such file or directory`);
  const { address, identity } = localHost(config);
  if (!opts.user.trim()) throw new Error('--user must not be empty');
  let client: InstanceClient;
  try { client = await InstanceClient.connect(opts.instance, address, identity); }
  catch (e) { throw new Error(`cannot reach instance ${opts.instance} through the Instance Host at ${address.host}:${address.port}: ${(e as Error).message}`); }
  const started = Date.now();
  const s: ImportSummary = { messages: 0, imported: 0, duplicates: 0, broken: 0, failed: 0, skippedFiles: 0, ignoredFiles: 0, bytes: 0, seconds: 0 };
  const bar = new ProgressBar(!opts.quiet && process.stderr.isTTY === true);
  const errors: string[] = [];
  let batch: SourceMessage[] = [];
  let batchBytes = 0;
  /** Two batches in flight: the instance prepares one in its worker threads while it writes the other. */
  const inFlight: Promise<void>[] = [];
  const send = async (items: SourceMessage[]) => {
    const r = await client.ingest(opts.user, items.map((m) => ({ name: m.name, folder: m.folder, raw: m.raw, flags: m.flags, internalDate: m.internalDate })));
    s.imported += r.imported; s.duplicates += r.duplicates; s.broken += r.broken; s.failed += r.errors.length;
    for (const e of r.errors) errors.push(`${e.name}: ${e.message}`);
    s.seconds = (Date.now() - started) / 1000;
    bar.update(s);
  };
  try {
    const onSkip = (file: string, why: string) => { s.skippedFiles++; errors.push(`${file}: skipped (${why})`); };
    const onIgnore = () => { s.ignoredFiles++; };
    for await (const m of readSources(opts.inputs, opts.folder, onSkip, onIgnore)) {
      s.messages++; s.bytes += m.bytes;
      if (m.raw.length > MAX_MESSAGE_BYTES) { s.failed++; errors.push(`${m.name}: larger than ${MAX_MESSAGE_BYTES / 1048576} MB, not archived`); continue; }
      batch.push(m); batchBytes += m.raw.length;
      if (batch.length >= BATCH_MESSAGES || batchBytes >= BATCH_BYTES) {
        if (inFlight.length >= 2) await inFlight.shift();
        inFlight.push(send(batch));
        batch = []; batchBytes = 0;
      }
    }
    if (batch.length) inFlight.push(send(batch));
    await Promise.all(inFlight);
  } finally {
    client.close();
    bar.done();
  }
  s.seconds = (Date.now() - started) / 1000;
  for (const e of errors.slice(0, 50)) process.stderr.write(`${e}\n`);
  if (errors.length > 50) process.stderr.write(`… and ${errors.length - 50} more\n`);
  return s;
}

export async function importCommand(flags: Record<string, unknown>, positional: string[]): Promise<number> {
  const instance = flags.instance, user = flags.user;
  if (typeof instance !== 'string' || typeof user !== 'string' || positional.length === 0) {
    process.stderr.write(`${IMPORT_USAGE}\n`);
    return 1;
  }
  const config = loadConfig(flags);
  const s = await runImport(config, { instance, user, folder: typeof flags.folder === 'string' ? flags.folder : '', inputs: positional, quiet: flags.quiet === true });
  process.stdout.write(`imported ${s.imported}, duplicates skipped ${s.duplicates}, broken but stored ${s.broken}, failed ${s.failed}, files skipped ${s.skippedFiles}${s.ignoredFiles ? `, ${s.ignoredFiles} files in directories ignored (not .eml, .mbox or Maildir)` : ''} — ${s.messages} messages, ${(s.bytes / 1048576).toFixed(1)} MB in ${s.seconds.toFixed(1)} s (${Math.round(s.messages / Math.max(s.seconds, 0.001))} messages/s)\n`);
  return s.failed > 0 || s.skippedFiles > 0 ? 1 : 0;
}
