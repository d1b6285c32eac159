/**
 * Runs the read-path scripts of Dovecot's imaptest (`_expected/`) against Coffer with their
 * `_mbox/` inputs imported: a small runner for the script format (header lines, `ok|no|bad
 * command`, expected `*` responses that must arrive, `!` responses that must not, `$variables`,
 * `{{{ }}}` literals, connection prefixes). Scripts that need writes (APPEND, STORE, EXPUNGE,
 * CREATE …) cannot run against a read-only archive and are not listed here.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CORPUS, RawImapClient, startHarness, type Harness } from './imap-harness.js';

const ROOT = path.join(CORPUS, 'fixtures/dovecot-imaptest');

/** Read-path scripts; each is run as a test of its own. */
const SCRIPTS = [
  'fetch-envelope',
  'fetch-bodystructure',
  'fetch-body',
  'fetch-body-mime',
  'fetch-body-message-rfc822',
  'fetch-body-message-rfc822-mime',
  'fetch-body-message-rfc822-x2',
  'search-header',
  'search-body',
  'search-addresses',
  'search-size',
  'search-date',
  'atoms',
  'id',
  'logout',
];

/**
 * Expected responses Coffer deliberately does not send: Dovecot sets `\Seen` after a non-PEEK
 * BODY[] fetch and reports it; the archive is read-only, so flags never change.
 */
const DELIBERATE_DEVIATIONS = [/^\d+ fetch \(flags \(\\seen\)\)$/i];

/**
 * Scripts that still differ from Dovecot because of layers below the IMAP server; run with
 * `it.fails` so that a fix turns them red here and they move back into the passing list.
 */
const KNOWN_DIFFERENCES = new Map<string, string>([
]);

/**
 * Splits an mbox as imaptest does: a message runs from after its `From ` line up to the next
 * `From ` line, the blank line before it included. Line endings become CRLF, as APPEND sends them.
 */
function imaptestMessages(file: string): Buffer[] {
  const text = readFileSync(file, 'latin1');
  const parts = text.split(/^From [^\n]*\n/m).slice(1);
  return parts.map((part) => Buffer.from(part.replace(/\r?\n/g, '\r\n'), 'latin1'));
}

// ---- response tokens -------------------------------------------------------------------------

type Tok = { t: 'atom'; v: string } | { t: 'str'; v: string; quoted?: boolean } | { t: 'list'; v: Tok[] } | { t: 'var'; v: string };

/** Tokenizes response text; `literals` holds the bodies of `{{{ }}}` placeholders in expected lines. */
function tokenize(text: string, literals: string[] = []): Tok[] {
  const stack: Tok[][] = [[]];
  let k = 0;
  const push = (tok: Tok) => stack[stack.length - 1]!.push(tok);
  while (k < text.length) {
    const c = text[k]!;
    if (c === ' ') {
      k++;
    } else if (c === '(') {
      stack.push([]);
      k++;
    } else if (c === ')') {
      const items = stack.pop()!;
      if (stack.length === 0) throw new Error(`unbalanced ) in ${text.slice(0, 200)}`);
      push({ t: 'list', v: items });
      k++;
    } else if (c === '"') {
      let value = '';
      k++;
      while (k < text.length && text[k] !== '"') {
        if (text[k] === '\\') k++;
        value += text[k++];
      }
      k++;
      push({ t: 'str', v: value, quoted: true });
    } else if (c === '\u0000') {
      const end = text.indexOf('\u0000', k + 1);
      push({ t: 'str', v: literals[Number(text.slice(k + 1, end))]! });
      k = end + 1;
    } else if (c === '{' || (c === '~' && text[k + 1] === '{')) {
      const open = text.indexOf('{', k);
      const close = text.indexOf('}', open);
      const size = Number(text.slice(open + 1, close).replace('+', ''));
      const start = close + 3; // }\r\n
      push({ t: 'str', v: text.slice(start, start + size) });
      k = start + size;
    } else {
      let end = k;
      let depth = 0;
      while (end < text.length) {
        const d = text[end]!;
        if (d === '[') depth++;
        else if (d === ']') depth--;
        else if (depth === 0 && (d === ' ' || d === '(' || d === ')')) break;
        end++;
      }
      const word = text.slice(k, end);
      push(word.startsWith('$') && /^\$\w+$/.test(word) ? { t: 'var', v: word.slice(1) } : { t: 'atom', v: word });
      k = end;
    }
  }
  return stack[0]!;
}

function serialize(tok: Tok): string {
  switch (tok.t) {
    case 'atom':
      return tok.v.toLowerCase();
    case 'str':
      return JSON.stringify(tok.v);
    case 'list':
      return `(${tok.v.map(serialize).join(' ')})`;
    case 'var':
      return `$${tok.v}`;
  }
}

function matchToken(expected: Tok, actual: Tok, vars: Map<string, string>): boolean {
  if (expected.t === 'var') {
    const value = actual.t === 'str' ? actual.v : actual.t === 'atom' ? actual.v : serialize(actual);
    const bound = vars.get(expected.v);
    if (bound === undefined) {
      vars.set(expected.v, value);
      return true;
    }
    return bound === value || bound.toLowerCase() === value.toLowerCase();
  }
  if (expected.t === 'atom') {
    if (expected.v.toUpperCase() === 'NIL') return actual.t === 'atom' && actual.v.toUpperCase() === 'NIL';
    return actual.t === 'atom' && actual.v.toLowerCase() === expected.v.toLowerCase();
  }
  // imaptest compares quoted strings without regard to case and literals byte for byte.
  if (expected.t === 'str') return actual.t === 'str' && (actual.v === expected.v || (!!expected.quoted && !!actual.quoted && actual.v.toLowerCase() === expected.v.toLowerCase()));
  if (actual.t !== 'list' || actual.v.length !== expected.v.length) return false;
  return expected.v.every((tok, k) => matchToken(tok, actual.v[k]!, vars));
}

/** FETCH data is matched as a set of name/value pairs (servers may order items freely). */
function matchFetchList(expected: Tok[], actual: Tok[], vars: Map<string, string>): boolean {
  const pairs = new Map<string, Tok>();
  for (let k = 0; k + 1 < actual.length; k += 2) pairs.set(serialize(actual[k]!), actual[k + 1]!);
  for (let k = 0; k + 1 < expected.length; k += 2) {
    const value = pairs.get(serialize(expected[k]!));
    if (value === undefined || !matchToken(expected[k + 1]!, value, vars)) return false;
  }
  return true;
}

function matchResponse(expected: Tok[], actual: Tok[], vars: Map<string, string>): boolean {
  const isFetch = expected.length === 3 && expected[1]!.t === 'atom' && expected[1]!.v.toLowerCase() === 'fetch';
  if (isFetch) {
    return actual.length === 3 && matchToken(expected[0]!, actual[0]!, vars) && matchToken(expected[1]!, actual[1]!, vars) && actual[2]!.t === 'list' && expected[2]!.t === 'list' && matchFetchList(expected[2]!.v, actual[2]!.v, vars);
  }
  // Status responses (`* BYE`, `* OK [UNSEEN 1]`) match on what the script spells out; the
  // human-readable text after it is free.
  const first = expected[0]?.t === 'atom' ? expected[0].v.toUpperCase() : '';
  const isStatus = first === 'OK' || first === 'NO' || first === 'BAD' || first === 'BYE' || first === 'PREAUTH';
  if (isStatus ? actual.length < expected.length : expected.length !== actual.length) return false;
  return expected.every((tok, k) => matchToken(tok, actual[k]!, vars));
}

// ---- scripts -----------------------------------------------------------------------------------

interface Step {
  connection: number;
  status: 'ok' | 'no' | 'bad';
  command: string;
  expected: { isForbidden: boolean; text: string; literals: string[] }[];
}

interface Script {
  header: Map<string, string>;
  steps: Step[];
}

function parseScript(text: string): Script {
  const lines = text.split('\n');
  const header = new Map<string, string>();
  let k = 0;
  for (; k < lines.length && lines[k]!.trim() !== ''; k++) {
    const match = /^([a-z]+):\s*(.*)$/.exec(lines[k]!);
    if (match === null) break;
    header.set(match[1]!, match[2]!);
  }
  const steps: Step[] = [];
  for (; k < lines.length; k++) {
    const line = lines[k]!;
    if (line.trim() === '' || line.startsWith('#')) continue;
    const command = /^(?:(\d+) )?(ok|no|bad) (.*)$/i.exec(line);
    if (command !== null) {
      steps.push({ connection: Number(command[1] ?? 1), status: command[2]!.toLowerCase() as Step['status'], command: command[3]!, expected: [] });
      continue;
    }
    if (line.startsWith('* ') || line.startsWith('! ')) {
      let text = line.slice(2);
      const literals: string[] = [];
      // `{{{` ... `}}}`: a literal spanning lines (CRLF between them, none after the last);
      // `~{{{`: raw bytes as in the file (its lines keep their own CRs).
      while (/~?\{\{\{$/.test(text)) {
        const isRaw = text.endsWith('~{{{');
        const body: string[] = [];
        k++;
        while (!lines[k]!.startsWith('}}}')) body.push(lines[k++]!);
        literals.push(body.join(isRaw ? '\n' : '\r\n'));
        text = `${text.replace(/~?\{\{\{$/, '')}\u0000${literals.length - 1}\u0000${lines[k]!.slice(3)}`;
      }
      steps[steps.length - 1]!.expected.push({ isForbidden: line.startsWith('!'), text, literals });
      continue;
    }
    throw new Error(`unreadable script line: ${line}`);
  }
  return { header, steps };
}

/** `$name` and `${name}` are variables, `$$` is a literal `$`. */
function substitute(text: string, vars: Map<string, string>): string {
  return text.replace(/\$\$|\$\{?(\w+)\}?/g, (whole, name: string | undefined) => (name === undefined ? '$' : (vars.get(name) ?? whole)));
}

describe("Dovecot imaptest read-path scripts", () => {
  let h: Harness;
  const mailboxes = new Map<string, string>();
  beforeAll(async () => {
    h = await startHarness({ inboxFiles: [] });
    for (const name of SCRIPTS) {
      const script = parseScript(readFileSync(path.join(ROOT, '_expected', name), 'utf8'));
      const wanted = script.header.get('messages');
      if (wanted === undefined) continue;
      const mbox = existsSync(path.join(ROOT, '_mbox', `${name}.mbox`)) ? path.join(ROOT, '_mbox', `${name}.mbox`) : path.join(ROOT, '_mbox', 'default.mbox');
      const messages = imaptestMessages(mbox);
      const count = wanted === 'all' ? messages.length : Number(wanted);
      const folder = `imaptest-${name}`;
      const seen = new Set<string>();
      // imaptest APPENDs without flags, in order. The archive keeps identical messages once, so a
      // repeated message gets a trailing header field that makes it distinct (ENVELOPE unchanged).
      for (const [k, raw] of messages.slice(0, count).entries()) {
        let bytes = raw;
        if (seen.has(raw.toString('latin1'))) {
          const headerEnd = raw.indexOf('\r\n\r\n');
          bytes = Buffer.concat([raw.subarray(0, headerEnd + 2), Buffer.from(`X-Imaptest-Copy: ${k + 1}\r\n`), raw.subarray(headerEnd + 2)]);
        }
        seen.add(raw.toString('latin1'));
        await h.acme.ingest('jane', [{ name: `${name}#${k + 1}`, folder, raw: bytes, flags: [], internalDate: Date.UTC(2008, 1, 22, 17, 6, 23) }]);
      }
      mailboxes.set(name, folder);
    }
  }, 120_000);
  afterAll(async () => {
    await h?.close();
  });

  for (const name of SCRIPTS) {
    const known = KNOWN_DIFFERENCES.get(name);
    (known === undefined ? it : it.fails)(known === undefined ? `passes ${name}` : `still differs in ${name}: ${known}`, async () => {
      const script = parseScript(readFileSync(path.join(ROOT, '_expected', name), 'utf8'));
      const state = script.header.get('state') ?? 'selected';
      const mailbox = mailboxes.get(name) ?? `imaptest-${name}`;
      const vars = new Map<string, string>([['mailbox', `"${mailbox}"`]]);
      const connections = new Map<number, RawImapClient>();
      const connect = async (n: number) => {
        let c = connections.get(n);
        if (c !== undefined) return c;
        c = await RawImapClient.connectTls(h.tlsPort);
        await c.readLine();
        if (state !== 'nonauth') await c.login();
        if (state === 'selected') expect((await c.command('S0', `SELECT "${mailbox}"`)).at(-1)).toMatch(/^S0 OK/);
        connections.set(n, c);
        return c;
      };
      const failures: string[] = [];
      let tagCount = 0;
      for (const step of script.steps) {
        const c = await connect(step.connection);
        const tag = `T${++tagCount}`;
        vars.set('tag', `"${tag}"`);
        const command = substitute(step.command, vars);
        const lines = await c.command(tag, command, 20_000);
        const tagged = lines.at(-1)!;
        if (tagged.split(' ')[1]!.toLowerCase() !== step.status) failures.push(`${command}: expected ${step.status}, got ${tagged}`);
        const untagged = lines.slice(0, -1).filter((l) => l.startsWith('* ')).map((l) => tokenize(l.slice(2)));
        for (const expected of step.expected) {
          const text = substitute(expected.text, new Map([...vars].filter(([key]) => key === 'mailbox' || key === 'tag')));
          if (DELIBERATE_DEVIATIONS.some((re) => re.test(text))) continue;
          const want = tokenize(text, expected.literals);
          let matched = false;
          for (const got of untagged) {
            const trial = new Map(vars);
            if (matchResponse(want, got, trial)) {
              matched = true;
              if (!expected.isForbidden) for (const [key, value] of trial) vars.set(key, value);
              break;
            }
          }
          if (matched === expected.isForbidden) {
            failures.push(`${command}: ${expected.isForbidden ? 'unexpected' : 'missing'} * ${want.map(serialize).join(' ').slice(0, 300)}\n  got: ${untagged.map((got) => got.map(serialize).join(' ')).join('\n       ').slice(0, 1500)}`);
          }
        }
        if (/^logout$/i.test(command)) {
          c.close();
          connections.delete(step.connection);
        }
      }
      for (const c of connections.values()) c.close();
      expect(failures).toEqual([]);
    });
  }
});
