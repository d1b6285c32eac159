/**
 * Sources for `coffer import`: single .eml files, directories of them (recursively), mbox files
 * (mboxo and mboxrd, split on `From ` lines at the start or after a blank line) and Maildir
 * folders (cur/new, Maildir++ sub-folders `.A.B`), each yielding messages with their folder.
 */
import { createReadStream, readdirSync, statSync, readFileSync, openSync, readSync, closeSync } from 'node:fs';
import path from 'node:path';

export interface SourceMessage { name: string; folder: string; raw: Buffer; flags?: string[]; internalDate?: number; bytes: number }

/** mbox files bigger than this are read as a stream; smaller ones at once. */
const MBOX_STREAM_THRESHOLD = 64 * 1024 * 1024;

export function isMaildir(dir: string): boolean {
  try { return statSync(path.join(dir, 'cur')).isDirectory() && statSync(path.join(dir, 'new')).isDirectory(); } catch { return false; }
}

export function looksLikeMbox(file: string): boolean {
  const fd = openSync(file, 'r');
  try {
    const head = Buffer.alloc(5);
    const n = readSync(fd, head, 0, 5, 0);
    return n === 5 && head.toString('latin1') === 'From ';
  } finally { closeSync(fd); }
}

/** Maildir flags after `:2,` — S seen, F flagged, R replied (answered); others are not kept. */
function maildirFlags(file: string): string[] {
  const m = /:2,([A-Za-z]*)$/.exec(file);
  const out: string[] = [];
  if (!m) return out;
  if (m[1]!.includes('S')) out.push('\\Seen');
  if (m[1]!.includes('F')) out.push('\\Flagged');
  if (m[1]!.includes('R')) out.push('\\Answered');
  return out;
}

function* maildirFolder(dir: string, folder: string): Generator<SourceMessage> {
  for (const sub of ['cur', 'new']) {
    const d = path.join(dir, sub);
    let names: string[] = [];
    try { names = readdirSync(d).sort(); } catch { continue; }
    for (const n of names) {
      const f = path.join(d, n);
      const st = statSync(f);
      if (!st.isFile()) continue;
      const raw = readFileSync(f);
      yield { name: f, folder, raw, flags: maildirFlags(n), internalDate: st.mtimeMs, bytes: raw.length };
    }
  }
}

/** A Maildir++ tree: the root is INBOX; `.Sent`, `.Lists.linux` are sub-folders (`.` is the separator). */
function* maildirTree(dir: string, base: string): Generator<SourceMessage> {
  yield* maildirFolder(dir, base ? `${base}/Inbox` : 'Inbox');
  for (const n of readdirSync(dir).sort()) {
    if (!n.startsWith('.') || n === '.' || n === '..') continue;
    const sub = path.join(dir, n);
    if (!isMaildir(sub)) continue;
    const name = n.slice(1).split('.').filter(Boolean).join('/');
    yield* maildirFolder(sub, base ? `${base}/${name}` : name);
  }
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** The asctime date of a `From sender date` line, as the source's INTERNALDATE. */
export function fromLineDate(line: string): number | undefined {
  const m = /(\w{3})\s+(\d{1,2})\s+(\d{1,2}):(\d{2}):(\d{2})\s+(?:[A-Z]{2,5}\s+|[+-]\d{4}\s+)?(\d{4})/.exec(line);
  if (!m) return undefined;
  const mon = MONTHS.indexOf(m[1]!);
  if (mon < 0) return undefined;
  const t = Date.UTC(Number(m[6]), mon, Number(m[2]), Number(m[3]), Number(m[4]), Number(m[5]));
  return Number.isNaN(t) ? undefined : t;
}

/** mboxrd and mboxo escape body lines that start with `From ` as `>From `; one `>` comes off on import. */
function unescapeFromLines(lines: Buffer[]): Buffer {
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!;
    let j = 0;
    while (j < l.length && l[j] === 0x3e) j++;
    if (j > 0 && l.length >= j + 5 && l.toString('latin1', j, j + 5) === 'From ') lines[i] = l.subarray(1);
  }
  return Buffer.concat(lines);
}

async function* mboxFile(file: string, folder: string): AsyncGenerator<SourceMessage> {
  let lines: Buffer[] = [];
  let fromLine = '';
  let index = 0;
  let prevBlank = true;
  let bytes = 0;
  const flush = (): SourceMessage | null => {
    if (!fromLine && lines.length === 0) return null;
    // The blank line before the next `From ` belongs to the mbox format, not to the message.
    if (lines.length && (lines[lines.length - 1]!.length === 0 || (lines[lines.length - 1]!.length === 1 && lines[lines.length - 1]![0] === 0x0d))) lines.pop();
    const raw = unescapeFromLines(lines.map((l, i) => (i < lines.length - 1 ? Buffer.concat([l, Buffer.from('\n')]) : Buffer.concat([l, Buffer.from('\n')]))));
    const msg = { name: `${file}#${++index}`, folder, raw, internalDate: fromLineDate(fromLine), bytes };
    lines = []; bytes = 0;
    return msg;
  };
  let pending = Buffer.alloc(0);
  const source = statSync(file).size > MBOX_STREAM_THRESHOLD ? createReadStream(file, { highWaterMark: 1 << 20 }) : [readFileSync(file)];
  for await (const chunk of source as AsyncIterable<Buffer>) {
    let buf = pending.length ? Buffer.concat([pending, chunk]) : chunk;
    let start = 0;
    for (let nl = buf.indexOf(10, start); nl !== -1; nl = buf.indexOf(10, start)) {
      const line = buf.subarray(start, nl);
      start = nl + 1;
      const isFrom = prevBlank && line.length >= 5 && line.toString('latin1', 0, 5) === 'From ';
      if (isFrom) {
        const m = flush();
        if (m && (m.raw.length > 0)) yield m;
        fromLine = line.toString('latin1');
        prevBlank = false;
        continue;
      }
      lines.push(line);
      bytes += line.length + 1;
      prevBlank = line.length === 0 || (line.length === 1 && line[0] === 0x0d);
    }
    pending = Buffer.from(buf.subarray(start));
    buf = Buffer.alloc(0);
  }
  if (pending.length) { lines.push(pending); bytes += pending.length; }
  const last = flush();
  if (last && last.raw.length > 0) yield last;
}

function* emlTree(dir: string, folder: string): Generator<string> {
  for (const n of readdirSync(dir).sort()) {
    const p = path.join(dir, n);
    const st = statSync(p);
    if (st.isDirectory()) yield* emlTree(p, folder);
    else if (st.isFile()) yield p;
  }
}

/** Walks every argument; directories keep their sub-folder structure below `baseFolder`. */
/** Files in directories that are taken as mail; anything else there (notes, images) is ignored and counted. */
const MAIL_FILE = /\.(eml|mbox|mbx)$/i;

export async function* readSources(inputs: string[], baseFolder: string, onSkip: (file: string, why: string) => void, onIgnore: (file: string) => void = () => {}): AsyncGenerator<SourceMessage> {
  for (const input of inputs) {
    const st = statSync(input);
    if (st.isDirectory()) {
      if (isMaildir(input)) { yield* maildirTree(input, baseFolder); continue; }
      for (const file of emlTree(input, baseFolder)) {
        const rel = path.relative(input, path.dirname(file));
        const folder = [baseFolder, rel.split(path.sep).join('/')].filter(Boolean).join('/');
        const parent = path.dirname(file);
        if (['cur', 'new', 'tmp'].includes(path.basename(parent)) && isMaildir(path.dirname(parent))) {
          if (path.basename(parent) === 'tmp') continue;
          const raw = readFileSync(file);
          const mdFolder = [baseFolder, path.relative(input, path.dirname(parent)).split(path.sep).join('/')].filter(Boolean).join('/');
          yield { name: file, folder: mdFolder, raw, flags: maildirFlags(file), internalDate: statSync(file).mtimeMs, bytes: raw.length };
          continue;
        }
        if (!MAIL_FILE.test(file)) { onIgnore(file); continue; }
        yield* single(file, folder, onSkip, true);
      }
    } else if (st.isFile()) {
      yield* single(input, baseFolder, onSkip);
    } else onSkip(input, 'not a file or directory');
  }
}

/** An mbox found in a directory becomes a folder named after it; one given by name goes to --folder (or its own name). */
async function* single(file: string, folder: string, onSkip: (file: string, why: string) => void, inDirectory = false): AsyncGenerator<SourceMessage> {
  const st = statSync(file);
  if (st.size === 0) { onSkip(file, 'empty file'); return; }
  if (/\.(mbox|mbx)$/i.test(file) || (!/\.eml$/i.test(file) && looksLikeMbox(file))) {
    const own = path.basename(file).replace(/\.(mbox|mbx)$/i, '');
    const mboxFolder = inDirectory ? [folder, own].filter(Boolean).join('/') : folder || own;
    yield* mboxFile(file, mboxFolder);
    return;
  }
  const raw = readFileSync(file);
  yield { name: file, folder, raw, bytes: raw.length };
}
