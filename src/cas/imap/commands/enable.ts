/** ENABLE (RFC 5161): only CONDSTORE can be enabled; other names are ignored, as the RFC requires. */
import { AUTHENTICATED, defineCommand, okOutcome } from '../command-spec.js';
import { badSyntax, fail, ok, type ParseResult, type Token } from '../protocol/index.js';

function parseEnable(args: readonly Token[]): ParseResult<string[]> {
  if (args.length === 0) return fail(badSyntax('ENABLE needs at least one capability'));
  const names: string[] = [];
  for (const token of args) {
    if (token.type !== 'atom' || token.section !== undefined) return fail(badSyntax('ENABLE takes capability names'));
    names.push(token.value.toUpperCase());
  }
  return ok(names);
}

export const enableCommand = defineCommand({
  name: 'ENABLE',
  states: AUTHENTICATED,
  parse: parseEnable,
  async handler({ session }, names) {
    const enabled: string[] = [];
    if (names.includes('CONDSTORE') && !session.isCondstoreEnabled) {
      session.enableCondstore();
      enabled.push('CONDSTORE');
    }
    await session.writer.untagged(enabled.length === 0 ? 'ENABLED' : `ENABLED ${enabled.join(' ')}`);
    return okOutcome('Enabled.');
  },
});
