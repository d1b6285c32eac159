/** LOGIN (RFC 3501 §6.2.3): `LOGIN user@instance password`, only over TLS. */
import { NOT_AUTHENTICATED, defineCommand } from '../command-spec.js';
import { astringValue } from '../arguments.js';
import { performLogin } from '../login-flow.js';
import { badSyntax, fail, ok } from '../protocol/index.js';

export const loginCommand = defineCommand({
  name: 'LOGIN',
  states: NOT_AUTHENTICATED,
  parse(args) {
    const user = astringValue(args[0]);
    const password = astringValue(args[1]);
    if (user === null || password === null || args.length !== 2) return fail(badSyntax('LOGIN needs a user name and a password'));
    return ok({ user, password });
  },
  handler({ session }, { user, password }) {
    return performLogin(session, user, password);
  },
});
