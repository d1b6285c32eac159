/** CAPABILITY (RFC 3501 §6.1.1): the list depends on TLS and login state. */
import { ANY_STATE, defineCommand, okOutcome } from '../command-spec.js';
import { noArguments } from '../arguments.js';

export const capabilityCommand = defineCommand({
  name: 'CAPABILITY',
  states: ANY_STATE,
  parse: noArguments,
  async handler({ session }) {
    await session.writer.untagged(`CAPABILITY ${session.capabilities()}`);
    return okOutcome('Capability completed.');
  },
});
