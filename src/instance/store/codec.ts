/**
 * Compression of the per-message metadata rows (pre-serialised ENVELOPE, BODYSTRUCTURE, BODY, MIME
 * offsets; about 1 KB of JSON each). Two formats, told apart by the first byte:
 *   - 0x00, then raw deflate with META_DICTIONARY as preset dictionary (written now): a record
 *     this small has little to find repeats in, so a dictionary of what every record spells out
 *     ("text" "plain" ("charset" ...) NIL NIL "7bit") saves a sixth of the bytes, and deflate is
 *     about twice as fast as brotli on it (brotli prepares its big window for every record);
 *   - otherwise brotli (quality 5, default 22-bit window), as written before: such a stream's first
 *     byte encodes the window size, and never is 0x00 (its lowest bit is set for every window
 *     above 16 bits).
 */
import zlib from 'node:zlib';

const DICTIONARY_FORMAT = 0x00;

/**
 * The preset dictionary of format 0x00. Stored records depend on it byte for byte: never change
 * it; a better one needs a new format byte. Common strings are near the end (deflate reaches
 * them with the shortest distances).
 */
export const META_DICTIONARY = Buffer.from([
  '"to":"","cc":"","bcc":""}',
  '("application" "octet-stream" ("name" "application" "pdf" ("name" "image" "jpeg" ("name" "image" "png" ("name" ',
  '"application" "vnd.openxmlformats-officedocument.wordprocessingml.document" "application" "msword" "application" "zip" ',
  '("attachment" ("filename" ("inline" ("filename" "inline" NIL) ("attachment" NIL) "message" "rfc822" ',
  '"related" ("boundary" "type" "text/html") "mixed" ("boundary" "alternative" ("boundary" "report" ("report-type" "delivery-status" ',
  'Mon, Tue, Wed, Thu, Fri, Sat, Sun, Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec +0000 +0100 +0200 -0400 -0500 -0700 -0800 (UTC) (GMT) ',
  '"=?UTF-8?B?" "=?utf-8?Q?" "=?ISO-8859-1?Q?" "=?iso-8859-1?Q?" "Re: " "Fwd: " "AW: " ',
  '"gmail.com" "yahoo.com" "hotmail.com" "outlook.com" "example.com" "example.org" ".com" ".org" ".net" ".de" ',
  '"c":[{"h":"m":{"h":0,"b":"e":"t":"multipart/mixed","t":"multipart/alternative","t":"text/plain"},{"h":"t":"text/html"},',
  '"e":"(\"" NIL NIL NIL NIL \"<" NIL \"<\")","s":"((\"text\" \"plain\" (\"charset\" \"us-ascii\") NIL NIL \"7bit\" ',
  '(\"charset\" \"iso-8859-1\") NIL NIL \"quoted-printable\" (\"charset\" \"windows-1252\") NIL NIL \"base64\" ',
  '(\"charset\" \"utf-8\") NIL NIL \"8bit\" NIL NIL NIL NIL)(\"text\" \"html\" (\"charset\" \"utf-8\") NIL NIL \"quoted-printable\" ',
  ' NIL NIL NIL)","b":"((\"text\" \"plain\" (\"charset\" \"utf-8\") NIL NIL \"7bit\" ',
  ' \"alternative\")","m":{"h":0,"b":',
  ' ((\"" NIL \"" \"")) ((\"" NIL \"" \"")) ((\"" NIL \"" \"")) ((\"" NIL \"" \"")) NIL NIL NIL \"<',
].join(''), 'utf8');

const DEFLATE_OPTIONS: zlib.ZlibOptions = { level: 6, dictionary: META_DICTIONARY };

/** The native stream under a zlib object: what `zlib.deflateRawSync` drives, one call per record here. */
interface NativeStream {
  reset(): void;
  writeSync(flush: number, input: Buffer, inOffset: number, inLength: number, output: Buffer, outOffset: number, outLength: number): void;
  onerror: unknown;
}
interface Reused { stream: NativeStream; state: Uint32Array; out: Buffer; failed: boolean }

/**
 * One raw deflate (or inflate) stream kept for every record of this thread, reset between records
 * (which sets the dictionary again): `zlib.deflateRawSync` and `inflateRawSync` build a stream
 * object, a native stream and a 16 KiB output buffer for each call, which cost more than the
 * ~1.3 KB record (~50 µs of the ~80 µs per record written; most of a cold header sync's zlib
 * time). It drives the native handle as Node's own synchronous path does (`_handle.writeSync`,
 * `_writeState` = [output left, input left]); null where that is not there.
 */
function reusableStream(z: unknown): Reused | null {
  try {
    const { _handle: stream, _writeState: state } = z as { _handle?: NativeStream; _writeState?: Uint32Array };
    if (stream && typeof stream.writeSync === 'function' && typeof stream.reset === 'function' && state instanceof Uint32Array && state.length >= 2) {
      const r: Reused = { stream, state, out: Buffer.allocUnsafeSlow(64 * 1024), failed: false };
      stream.onerror = () => { r.failed = true; };
      return r;
    }
  } catch { /* the plain path */ }
  return null;
}

/**
 * Runs one whole record through a reused stream; its output starts at `outOffset` of the reused
 * buffer. Null when the stream failed or the record does not fit (the caller takes the plain path).
 */
function runWhole(r: Reused | null, input: Buffer, outOffset: number): Buffer | null {
  if (!r || r.failed) return null;
  r.stream.reset();
  r.stream.writeSync(zlib.constants.Z_FINISH, input, 0, input.length, r.out, outOffset, r.out.length - outOffset);
  const outLeft = r.state[0]!, inLeft = r.state[1]!;
  // Output room left after Z_FINISH means the stream ended; otherwise (a huge record) the plain path.
  if (r.failed || inLeft !== 0 || outLeft === 0) return null;
  return r.out.subarray(0, r.out.length - outLeft);
}

let deflater: Reused | null | undefined;
let inflater: Reused | null | undefined;

/** A record's JSON text, decoded straight from the reused output buffer (a cold header sync reads thousands). */
export function decompressText(data: Buffer): string {
  if (data[0] !== DICTIONARY_FORMAT) return zlib.brotliDecompressSync(data).toString('utf8');
  // A damaged record fails its stream: the next record gets a fresh one.
  if (inflater?.failed) inflater = undefined;
  if (inflater === undefined) inflater = reusableStream(zlib.createInflateRaw({ dictionary: META_DICTIONARY }));
  const fast = runWhole(inflater, data.subarray(1), 0);
  return (fast ?? zlib.inflateRawSync(data.subarray(1), { dictionary: META_DICTIONARY })).toString('utf8');
}

/** One metadata record: JSON, deflated with the dictionary, in a buffer of its own. */
export function compressJson(value: unknown): Buffer {
  const json = Buffer.from(JSON.stringify(value), 'utf8');
  if (deflater?.failed) deflater = undefined;
  if (deflater === undefined) deflater = reusableStream(zlib.createDeflateRaw(DEFLATE_OPTIONS));
  const fast = runWhole(deflater, json, 1);
  if (fast) {
    // A buffer of its own: the reused output buffer is overwritten by the next record.
    const record = Buffer.allocUnsafeSlow(fast.length);
    fast.copy(record);
    record[0] = DICTIONARY_FORMAT;
    return record;
  }
  const deflated = zlib.deflateRawSync(json, DEFLATE_OPTIONS);
  const out = Buffer.allocUnsafeSlow(1 + deflated.length);
  out[0] = DICTIONARY_FORMAT;
  deflated.copy(out, 1);
  return out;
}
