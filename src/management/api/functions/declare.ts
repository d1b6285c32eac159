/**
 * The vocabulary the function tables are written in. A declaration is data, not code: the edge
 * validates every call against it (validate.ts), get-metadata publishes it, and the dispatcher
 * decides from `isLongRunning` whether a call answers at once or with a status token.
 */

/** Wire types of the Management API: every argument arrives as form text and is decoded by type. */
export type ArgType = 'string' | 'number' | 'bool' | 'json';

/** Extra checks on string arguments whose text has a grammar of its own. */
export type StringFormat = 'instanceId' | 'instanceFilter' | 'privileges' | 'folderPrivileges';

/** Names of the JSON value shapes in json-shapes.ts. `object` accepts any JSON object. */
export type JsonShapeName =
  | 'object'
  | 'instanceConfig'
  | 'instanceConfigUpdate'
  | 'instanceHostConfig'
  | 'clientAccessServerConfig'
  | 'systemAdministratorConfig'
  | 'systemSmtpConfig'
  | 'instanceSmtpSettings'
  | 'storeAutoCreateConfig'
  | 'complianceConfig';

export interface ArgDeclaration {
  readonly name: string;
  readonly type: ArgType;
  /** true: the argument may be left out (the reference's "(optional)"). */
  readonly nullable: boolean;
  readonly description: string;
  /** Older spellings accepted on input and mapped to `name`; never published in get-metadata. */
  readonly aliases?: readonly string[];
  /** Closed set of accepted values (string arguments). */
  readonly values?: readonly string[];
  readonly format?: StringFormat;
  readonly shape?: JsonShapeName;
}

export type FunctionScope = 'infrastructure' | 'instance';

export interface FunctionDeclaration {
  readonly name: string;
  readonly description: string;
  readonly args: readonly ArgDeclaration[];
  /** Answers at once with statusCode "running" and a token, then runs under /api/get-status. */
  readonly isLongRunning: boolean;
  /** `instance`: forwarded to the instance named by the `instanceID` argument. */
  readonly scope: FunctionScope;
}

interface ArgOptions {
  readonly nullable?: boolean;
  readonly aliases?: readonly string[];
  readonly values?: readonly string[];
  readonly format?: StringFormat;
  readonly shape?: JsonShapeName;
}

function arg(type: ArgType, name: string, description: string, options: ArgOptions = {}): ArgDeclaration {
  return Object.freeze({ name, type, description, ...options, nullable: options.nullable ?? false });
}

export const str = (name: string, description: string, options?: ArgOptions) => arg('string', name, description, options);
export const num = (name: string, description: string, options?: ArgOptions) => arg('number', name, description, options);
export const bool = (name: string, description: string, options?: ArgOptions) => arg('bool', name, description, options);
export const json = (name: string, description: string, options?: ArgOptions) => arg('json', name, description, { shape: 'object', ...options });

export const INSTANCE_ID = str('instanceID', 'Unique ID of MailStore instance in which this command is invoked.', { format: 'instanceId' });

/**
 * SetJobSchedule acts on a job of one instance, yet the reference lists no instanceID for it.
 * Coffer declares it nullable so that scripts written from the reference still validate, and so
 * that mssapi (which appends instanceID to every function whose metadata names it) sends it;
 * a call without it fails with a message naming instanceID instead of guessing an instance.
 */
export const INSTANCE_ID_UNDOCUMENTED = str('instanceID', 'Unique ID of MailStore instance in which this command is invoked.', {
  format: 'instanceId',
  nullable: true,
});

export const STORE_STATES = ['current', 'normal', 'writeProtected', 'disabled'] as const;
export const DAYS_OF_WEEK = ['Sunday', 'Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday'] as const;

export const LONG_RUNNING = { isLongRunning: true } as const;

export function fn(
  name: string,
  description: string,
  args: readonly ArgDeclaration[],
  options: { readonly isLongRunning?: boolean } = {},
): FunctionDeclaration {
  const scope: FunctionScope = args.some((a) => a.name === 'instanceID') ? 'instance' : 'infrastructure';
  return Object.freeze({ name, description, args: Object.freeze([...args]), isLongRunning: options.isLongRunning ?? false, scope });
}
