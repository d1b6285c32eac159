/** NAMESPACE (RFC 2342): personal at the root, other users' archives under `Other Archives/`. */
import { AUTHENTICATED, defineCommand, okOutcome } from '../command-spec.js';
import { noArguments } from '../arguments.js';
import { NAMESPACE_RESPONSE } from '../mailbox-map.js';

export const namespaceCommand = defineCommand({
  name: 'NAMESPACE',
  states: AUTHENTICATED,
  parse: noArguments,
  async handler({ session }) {
    await session.writer.untagged(NAMESPACE_RESPONSE);
    return okOutcome('Namespace completed.');
  },
});
