/**
 * AUTHENTICATE (RFC 3501 §6.2.2) with PLAIN (RFC 4616) and LOGIN, with or without an initial
 * response (SASL-IR, RFC 4959). Thunderbird waits for `+` even when SASL-IR is offered.
 */
import { NOT_AUTHENTICATED, defineCommand, type CommandOutcome } from '../command-spec.js';
import { astringValue } from '../arguments.js';
import { performLogin } from '../login-flow.js';
import { badSyntax, fail, ok } from '../protocol/index.js';
import type { Session } from '../session.js';

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const CANCELLED: CommandOutcome = { status: 'BAD', text: 'Authentication aborted by client.' };
const MALFORMED: CommandOutcome = { status: 'BAD', text: 'Invalid base64 data in AUTHENTICATE response.' };

/** `=` is an empty initial response (RFC 4959 §3). */
function decodeResponse(text: string): Buffer | null {
  if (text === '=') return Buffer.alloc(0);
  return BASE64.test(text) ? Buffer.from(text, 'base64') : null;
}

/** Sends `+ challenge` and reads the client's answer; 'cancel' for `*`, null for bad base64 or a lost connection. */
async function exchange(session: Session, challenge: string): Promise<Buffer | 'cancel' | null> {
  await session.writer.continuation(challenge);
  const line = await session.readRawLine();
  if (line === null) return null;
  const text = line.toString('latin1').trim();
  if (text === '*') return 'cancel';
  return decodeResponse(text);
}

async function plain(session: Session, initial: Buffer | null): Promise<CommandOutcome> {
  let response = initial;
  if (response === null) {
    const answer = await exchange(session, '');
    if (answer === 'cancel') return CANCELLED;
    if (answer === null) return MALFORMED;
    response = answer;
  }
  // message = [authzid] UTF8NUL authcid UTF8NUL passwd
  const fields = response.toString('utf8').split('\0');
  if (fields.length !== 3) return { status: 'BAD', text: 'Invalid PLAIN response.' };
  const [authzid, authcid, password] = fields as [string, string, string];
  if (authzid !== '' && authzid !== authcid) {
    return { status: 'NO', code: { name: 'AUTHORIZATIONFAILED' }, text: 'Logging in as another user is not supported.' };
  }
  return performLogin(session, authcid, password);
}

async function login(session: Session, initial: Buffer | null): Promise<CommandOutcome> {
  let user = initial;
  if (user === null) {
    const answer = await exchange(session, Buffer.from('Username:').toString('base64'));
    if (answer === 'cancel') return CANCELLED;
    if (answer === null) return MALFORMED;
    user = answer;
  }
  const password = await exchange(session, Buffer.from('Password:').toString('base64'));
  if (password === 'cancel') return CANCELLED;
  if (password === null) return MALFORMED;
  return performLogin(session, user.toString('utf8'), password.toString('utf8'));
}

export const authenticateCommand = defineCommand({
  name: 'AUTHENTICATE',
  states: NOT_AUTHENTICATED,
  parse(args) {
    const mechanism = astringValue(args[0]);
    if (mechanism === null || args.length > 2 || args[0]?.type !== 'atom') return fail(badSyntax('AUTHENTICATE needs a mechanism name'));
    const initialText = args.length === 2 ? astringValue(args[1]) : null;
    if (args.length === 2 && initialText === null) return fail(badSyntax('Invalid initial response'));
    return ok({ mechanism: mechanism.toUpperCase(), initialText });
  },
  async handler({ session }, { mechanism, initialText }) {
    if (!session.isSecure) return { status: 'NO', code: { name: 'PRIVACYREQUIRED' }, text: 'Use STARTTLS (or port 993) before logging in.' };
    if (mechanism !== 'PLAIN' && mechanism !== 'LOGIN') return { status: 'NO', text: 'Unsupported authentication mechanism.' };
    let initial: Buffer | null = null;
    if (initialText !== null) {
      initial = decodeResponse(initialText);
      if (initial === null) return MALFORMED;
    }
    return mechanism === 'PLAIN' ? plain(session, initial) : login(session, initial);
  },
});
