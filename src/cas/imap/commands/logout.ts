/** LOGOUT (RFC 3501 §6.1.3): `* BYE`, the tagged OK, then the connection closes. */
import { ANY_STATE, defineCommand } from '../command-spec.js';
import { noArguments } from '../arguments.js';

export const logoutCommand = defineCommand({
  name: 'LOGOUT',
  states: ANY_STATE,
  parse: noArguments,
  async handler({ session }) {
    await session.writer.untagged('BYE Logging out');
    return { status: 'OK', text: 'Logout completed.', after: () => session.close() };
  },
});
