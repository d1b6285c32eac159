/**
 * ID (RFC 2971), before and after login: records what the client says it is (for logs and
 * client quirks) and names the server by its branded product name.
 *   id = "ID" SP id-params-list;  id-params-list = "(" *(string SP nstring) ")" / nil
 */
import { ANY_STATE, defineCommand, okOutcome } from '../command-spec.js';
import { badSyntax, fail, imapString, ok, printable, type ParseResult, type Token } from '../protocol/index.js';
import { MAX_ID_PAIRS } from '../server-limits.js';

type IdParameters = Map<string, string | null> | null;

function text(token: Token | undefined): string | null {
  if (token?.type === 'string') return token.value;
  if (token?.type === 'literal' && !token.isDiscarded) return token.value.toString('utf8');
  return null;
}

function parseId(args: readonly Token[]): ParseResult<IdParameters> {
  const [list, ...extra] = args;
  if (list === undefined || extra.length > 0) return fail(badSyntax('ID needs one list or NIL'));
  if (list.type === 'nil') return ok(null);
  if (list.type !== 'list' || list.items.length % 2 !== 0) return fail(badSyntax('ID needs a list of field/value pairs'));
  if (list.items.length / 2 > MAX_ID_PAIRS) return fail(badSyntax(`ID takes at most ${MAX_ID_PAIRS} pairs`));
  const parameters = new Map<string, string | null>();
  for (let k = 0; k < list.items.length; k += 2) {
    const key = text(list.items[k]);
    const valueToken = list.items[k + 1];
    const value = valueToken?.type === 'nil' ? null : text(valueToken);
    if (key === null || (value === null && valueToken?.type !== 'nil')) return fail(badSyntax('ID fields are strings'));
    parameters.set(key.toLowerCase().slice(0, 30), value === null ? null : value.slice(0, 1024));
  }
  return ok(parameters);
}

export const idCommand = defineCommand({
  name: 'ID',
  states: ANY_STATE,
  parse: parseId,
  async handler({ session }, parameters) {
    if (parameters !== null) {
      const name = parameters.get('name') ?? 'unknown';
      const version = parameters.get('version') ?? '';
      session.clientId = printable(`${name} ${version}`.trim());
      session.log.info({ client: Object.fromEntries(parameters) }, 'client identified itself');
    }
    await session.writer.untagged(`ID ("name" ${imapString(session.host.productName())})`);
    return okOutcome('ID completed.');
  },
});
