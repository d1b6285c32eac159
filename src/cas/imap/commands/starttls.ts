/** STARTTLS (RFC 3501 §6.2.1): only on the plain port, only once, only before login. */
import { NOT_AUTHENTICATED, defineCommand } from '../command-spec.js';
import { noArguments } from '../arguments.js';

export const starttlsCommand = defineCommand({
  name: 'STARTTLS',
  states: NOT_AUTHENTICATED,
  parse: noArguments,
  async handler({ session }) {
    if (session.isSecure) return { status: 'BAD', text: 'TLS is already active.' };
    return { status: 'OK', text: 'Begin TLS negotiation now.', after: () => session.upgradeToTls() };
  },
});
