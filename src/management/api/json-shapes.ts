/**
 * Shapes of the `json` arguments where the Function Reference lists them. Each validator walks
 * the parsed value and returns null or one message that starts with the path of the offending
 * field (`config.startMode: expected one of automatic, manual, disabled`).
 *
 * Unknown fields are refused where the reference gives the complete object (a typo such as
 * `startmode` would otherwise be dropped without a word); configs that the reference defers to
 * a Get* function (compliance, directory services, index, profile properties) are open.
 */
import type { JsonShapeName } from './functions/declare.js';
import { describeInstanceIdProblem } from '../instance-ids.js';
import { SMTP_PROTOCOLS, START_MODES } from '../db/schema.js';

type FieldType = 'string' | 'integer' | 'bool' | 'stringArray' | ObjectShape;

interface FieldSpec {
  readonly type: FieldType;
  readonly isRequired?: boolean;
  readonly isNullable?: boolean;
  readonly values?: readonly string[];
  readonly min?: number;
  readonly max?: number;
  /** null when valid, else what is wrong (without the path). */
  readonly check?: (value: never) => string | null;
}

interface ObjectShape {
  readonly fields: Readonly<Record<string, FieldSpec>>;
  readonly allowsExtraFields: boolean;
}

const checkInstanceId = (value: string) => describeInstanceIdProblem(value);
/** An empty alias means "no alias". */
const checkAlias = (value: string) => (value === '' ? null : describeInstanceIdProblem(value));
const checkThumbprint = (value: string) =>
  /^[0-9a-fA-F]{40}$/.test(value.replace(/[\s:]/g, '')) ? null : 'expected a SHA-1 thumbprint of 40 hex digits';

const optionalString: FieldSpec = { type: 'string', isNullable: true };
const optionalBool: FieldSpec = { type: 'bool' };
const port: FieldSpec = { type: 'integer', min: 1, max: 65535 };
const serverCertificate: FieldSpec = {
  type: { fields: { thumbprint: { type: 'string', isRequired: true, check: checkThumbprint } }, allowsExtraFields: false },
  isNullable: true,
};

const instanceFields: Record<string, FieldSpec> = {
  instanceID: { type: 'string', isRequired: true, check: checkInstanceId },
  alias: { type: 'string', isNullable: true, check: checkAlias },
  displayName: optionalString,
  instanceHost: { type: 'string', isRequired: true },
  startMode: { type: 'string', values: START_MODES },
  baseDirectory: optionalString,
  debugLogEnabled: optionalBool,
  imapServerConnectionLogEnabled: optionalBool,
  /** Coffer's addition: Web Access logins need MFA (see docs/decisions.md). */
  webAccessMfaRequired: optionalBool,
  vssWriterEnabled: optionalBool,
  vssWriterExcludeIndexes: optionalBool,
};

const smtpFields: Record<string, FieldSpec> = {
  hostname: { type: 'string', isRequired: true },
  port,
  protocol: { type: 'string', values: SMTP_PROTOCOLS },
  ignoreSslPolicyErrors: optionalBool,
  authenticationRequired: optionalBool,
  username: optionalString,
  password: optionalString,
  fromDisplayName: optionalString,
  fromEmailAddress: optionalString,
};

const SHAPES: Readonly<Record<Exclude<JsonShapeName, 'object'>, ObjectShape>> = {
  instanceConfig: { fields: instanceFields, allowsExtraFields: false },
  // SetInstanceConfiguration: the host may stay as it is.
  instanceConfigUpdate: {
    fields: { ...instanceFields, instanceHost: { type: 'string', isNullable: true } },
    allowsExtraFields: false,
  },
  instanceHostConfig: {
    fields: { serverName: { type: 'string', isRequired: true }, port, serverCertificate, baseDirectory: optionalString },
    allowsExtraFields: false,
  },
  clientAccessServerConfig: {
    fields: { serverName: { type: 'string', isRequired: true }, port, serverCertificate },
    allowsExtraFields: false,
  },
  systemAdministratorConfig: {
    fields: { userName: { type: 'string', isRequired: true }, fullName: optionalString, emailAddress: optionalString },
    allowsExtraFields: false,
  },
  systemSmtpConfig: {
    fields: { ...smtpFields, recipientSystemAdministrator: { type: 'stringArray' } },
    allowsExtraFields: false,
  },
  instanceSmtpSettings: {
    fields: { ...smtpFields, recipientEmailAddresses: { type: 'stringArray' } },
    allowsExtraFields: false,
  },
  storeAutoCreateConfig: {
    fields: {
      sizeThreshold: { type: 'string', isNullable: true },
      baseDirectory: optionalString,
      contentBaseDirectory: optionalString,
      indexBaseDirectory: optionalString,
    },
    allowsExtraFields: false,
  },
  complianceConfig: {
    fields: {
      adminEmailPreviewEnabled: optionalBool,
      legalHoldEnabled: optionalBool,
      logSuccessfulUserActivities: { type: 'stringArray' },
    },
    allowsExtraFields: true,
  },
};

/** null when `value` has the shape, else a message starting with `path`. */
export function describeShapeProblem(value: unknown, shape: JsonShapeName, path: string): string | null {
  if (!isPlainObject(value)) return `${path}: expected a JSON object, got ${describeJsonType(value)}`;
  if (shape === 'object') return null;
  return describeObjectProblem(value, SHAPES[shape], path);
}

function describeObjectProblem(value: Record<string, unknown>, shape: ObjectShape, path: string): string | null {
  if (!shape.allowsExtraFields) {
    for (const key of Object.keys(value)) {
      if (!Object.hasOwn(shape.fields, key)) {
        return `${path}.${key}: unknown field (expected ${Object.keys(shape.fields).join(', ')})`;
      }
    }
  }
  for (const [key, spec] of Object.entries(shape.fields)) {
    const fieldPath = `${path}.${key}`;
    const fieldValue = value[key];
    if (fieldValue === undefined || fieldValue === null) {
      // An optional field given as null reads as left out.
      if (spec.isRequired) return `${fieldPath}: is required`;
      continue;
    }
    const problem = describeFieldProblem(fieldValue, spec, fieldPath);
    if (problem) return problem;
  }
  return null;
}

function describeFieldProblem(value: unknown, spec: FieldSpec, path: string): string | null {
  const { type } = spec;
  if (typeof type === 'object') {
    if (!isPlainObject(value)) return `${path}: expected a JSON object, got ${describeJsonType(value)}`;
    return describeObjectProblem(value, type, path);
  }
  switch (type) {
    case 'string':
      if (typeof value !== 'string') return `${path}: expected a string, got ${describeJsonType(value)}`;
      if (spec.values && !spec.values.includes(value)) return `${path}: expected one of ${spec.values.join(', ')}`;
      break;
    case 'integer':
      if (typeof value !== 'number' || !Number.isInteger(value)) return `${path}: expected an integer, got ${describeJsonType(value)}`;
      if (spec.min !== undefined && value < spec.min) return `${path}: must be at least ${spec.min}`;
      if (spec.max !== undefined && value > spec.max) return `${path}: must be at most ${spec.max}`;
      break;
    case 'bool':
      if (typeof value !== 'boolean') return `${path}: expected true or false, got ${describeJsonType(value)}`;
      break;
    case 'stringArray':
      if (!Array.isArray(value)) return `${path}: expected an array of strings, got ${describeJsonType(value)}`;
      for (const [index, item] of value.entries()) {
        if (typeof item !== 'string') return `${path}[${index}]: expected a string, got ${describeJsonType(item)}`;
      }
      break;
  }
  const problem = spec.check ? spec.check(value as never) : null;
  return problem ? `${path}: ${problem}` : null;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function describeJsonType(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return 'a string';
  if (typeof value === 'number') return 'a number';
  if (typeof value === 'boolean') return 'a boolean';
  return typeof value;
}
