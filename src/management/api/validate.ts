/**
 * Validation at the edge: a call's form fields against its declaration, before any handler runs.
 *
 * Wire rules (SPE, and what mssapi / PowerShell / curl send):
 * - fields arrive `application/x-www-form-urlencoded`; an empty body means no arguments;
 * - bool is the lower-case text `true` or `false` only (the PowerShell library lower-cases for
 *   this reason: "the server supports only lower case values in compliance with JSON specs");
 * - number is decimal text; json is JSON text, parsed, then checked against its shape;
 * - an unknown, repeated or missing argument, or a value of the wrong type, is refused with a
 *   message naming the argument.
 */
import type { ArgDeclaration, FunctionDeclaration } from './functions/declare.js';
import { describeShapeProblem } from './json-shapes.js';
import { describeFormatProblem } from './string-formats.js';

export type FormFields = ReadonlyMap<string, readonly string[]>;

export type ValidationResult = { ok: true; args: Record<string, unknown> } | { ok: false; message: string };

/** Decimal text: optional minus, digits, optional fraction. No exponent, hex, blanks or units. */
const DECIMAL_PATTERN = /^-?\d+(\.\d+)?$/;

/** Parses a urlencoded body (`+` is a space, as in HTML forms). Repeated names keep every value. */
export function parseFormFields(body: string): Map<string, string[]> {
  const fields = new Map<string, string[]>();
  for (const [name, value] of new URLSearchParams(body)) {
    const values = fields.get(name);
    if (values) values.push(value);
    else fields.set(name, [value]);
  }
  return fields;
}

export function validateCall(declaration: FunctionDeclaration, fields: FormFields): ValidationResult {
  const byWireName = new Map<string, ArgDeclaration>();
  for (const arg of declaration.args) {
    byWireName.set(arg.name, arg);
    for (const alias of arg.aliases ?? []) byWireName.set(alias, arg);
  }

  const args: Record<string, unknown> = {};
  for (const [wireName, values] of fields) {
    const arg = byWireName.get(wireName);
    if (!arg) return fail(describeUnknownArgument(declaration, wireName));
    if (values.length > 1) return fail(`Argument '${wireName}' of ${declaration.name} is given more than once.`);
    if (Object.hasOwn(args, arg.name)) {
      return fail(`Argument '${arg.name}' of ${declaration.name} is given twice (as '${arg.name}' and as its older name '${wireName}').`);
    }
    const decoded = decodeArgument(declaration, arg, values[0] ?? '');
    if (!decoded.ok) return decoded;
    if (decoded.value !== undefined) args[arg.name] = decoded.value;
  }

  for (const arg of declaration.args) {
    if (!arg.nullable && !Object.hasOwn(args, arg.name)) {
      return fail(`Missing required argument '${arg.name}' (${arg.type}) of ${declaration.name}.`);
    }
  }
  if (declaration.scope === 'instance' && !Object.hasOwn(args, 'instanceID')) {
    return fail(`Argument 'instanceID' of ${declaration.name} is required: it names the instance the call is forwarded to.`);
  }
  return { ok: true, args };
}

type Decoded = { ok: true; value: unknown } | { ok: false; message: string };

function decodeArgument(declaration: FunctionDeclaration, arg: ArgDeclaration, text: string): Decoded {
  const label = `Argument '${arg.name}' of ${declaration.name}`;
  // An optional non-string argument sent empty (`--jobId=`) reads as left out.
  if (text === '' && arg.type !== 'string') {
    return arg.nullable ? { ok: true, value: undefined } : fail(`${label} is empty; expected ${describeType(arg)}.`);
  }
  switch (arg.type) {
    case 'string':
      if (text === '' && !arg.nullable) return fail(`${label} must not be empty.`);
      if (arg.values && !arg.values.includes(text)) {
        return fail(`${label} must be one of ${arg.values.join(', ')}; got '${abbreviate(text)}'.`);
      }
      if (arg.format && text !== '') {
        const problem = describeFormatProblem(text, arg.format);
        if (problem) return fail(`${label} ${problem}.`);
      }
      return { ok: true, value: text };
    case 'bool':
      if (text === 'true') return { ok: true, value: true };
      if (text === 'false') return { ok: true, value: false };
      return fail(`${label} must be true or false (lower case); got '${abbreviate(text)}'.`);
    case 'number': {
      const value = Number(text);
      if (!DECIMAL_PATTERN.test(text) || !Number.isFinite(value)) {
        return fail(`${label} must be a decimal number; got '${abbreviate(text)}'.`);
      }
      return { ok: true, value };
    }
    case 'json': {
      let value: unknown;
      try {
        value = JSON.parse(text);
      } catch (error) {
        return fail(`${label} is not valid JSON: ${(error as Error).message}.`);
      }
      const problem = describeShapeProblem(value, arg.shape ?? 'object', arg.name);
      return problem ? fail(`${label} has the wrong shape: ${problem}.`) : { ok: true, value };
    }
  }
}

function describeUnknownArgument(declaration: FunctionDeclaration, wireName: string): string {
  const known = declaration.args.map((arg) => arg.name);
  const expected = known.length ? `expected ${known.join(', ')}` : 'it takes no arguments';
  return `Unknown argument '${abbreviate(wireName)}' for ${declaration.name} (${expected}).`;
}

function describeType(arg: ArgDeclaration): string {
  if (arg.type === 'bool') return 'true or false';
  if (arg.type === 'number') return 'a decimal number';
  return 'JSON text';
}

/** Echoed input is cut short: an error message is no place for a pasted megabyte. */
function abbreviate(text: string, maxChars = 60): string {
  return text.length > maxChars ? `${text.slice(0, maxChars)}…` : text;
}

function fail(message: string): { ok: false; message: string } {
  return { ok: false, message };
}
