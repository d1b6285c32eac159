/**
 * Every function of the Management API Function Reference, as one registry.
 *
 * The tables live in functions/*.ts (one per area); this module joins them, answers look-ups,
 * and renders get-metadata the way SPE does: a bare JSON array (no envelope) of
 * `{ name, description, args: [{ name, type, nullable, description }] }`. mssapi extends its
 * method list with that array and PowerShell's MSApiClient splices it after its own base list,
 * so neither tolerates an envelope, and a `path` key must be absent (PowerShell would use it as
 * the URL prefix).
 */
import type { ArgDeclaration, FunctionDeclaration } from './functions/declare.js';
import { INFRASTRUCTURE_FUNCTIONS } from './functions/infrastructure-functions.js';
import { INSTANCE_ARCHIVE_FUNCTIONS } from './functions/instance-archive-functions.js';
import { INSTANCE_ADMINISTRATION_FUNCTIONS } from './functions/instance-administration-functions.js';

export type {
  ArgDeclaration,
  ArgType,
  FunctionDeclaration,
  FunctionScope,
  JsonShapeName,
  StringFormat,
} from './functions/declare.js';
export { fn, str, num, bool, json, LONG_RUNNING } from './functions/declare.js';

/** All 106 functions of the reference, in reference order within each area. */
export const ALL_FUNCTIONS: readonly FunctionDeclaration[] = Object.freeze([
  ...INFRASTRUCTURE_FUNCTIONS,
  ...INSTANCE_ARCHIVE_FUNCTIONS,
  ...INSTANCE_ADMINISTRATION_FUNCTIONS,
]);

export interface WireArgMetadata {
  name: string;
  type: string;
  nullable: boolean;
  description: string;
}

export interface WireFunctionMetadata {
  name: string;
  description: string;
  args: WireArgMetadata[];
}

export class FunctionRegistry {
  readonly #byName = new Map<string, FunctionDeclaration>();
  readonly #byLowerName = new Map<string, FunctionDeclaration>();

  constructor(declarations: readonly FunctionDeclaration[]) {
    for (const declaration of declarations) {
      if (this.#byName.has(declaration.name)) throw new Error(`function ${declaration.name} is declared twice`);
      assertArgsAreUnique(declaration);
      this.#byName.set(declaration.name, declaration);
      this.#byLowerName.set(declaration.name.toLowerCase(), declaration);
    }
  }

  /** Exact name first; then case-insensitively, as SPE (an HTTP.sys server) resolves them. */
  find(name: string): FunctionDeclaration | undefined {
    return this.#byName.get(name) ?? this.#byLowerName.get(name.toLowerCase());
  }

  list(): FunctionDeclaration[] {
    return [...this.#byName.values()];
  }

  get size(): number {
    return this.#byName.size;
  }

  /** get-metadata body, sorted by name like SPE's listing. */
  toWireMetadata(): WireFunctionMetadata[] {
    return this.list()
      .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
      .map((declaration) => ({
        name: declaration.name,
        description: declaration.description,
        args: declaration.args.map(toWireArg),
      }));
  }
}

function toWireArg(arg: ArgDeclaration): WireArgMetadata {
  return { name: arg.name, type: arg.type, nullable: arg.nullable, description: arg.description };
}

function assertArgsAreUnique(declaration: FunctionDeclaration): void {
  const seen = new Set<string>();
  for (const arg of declaration.args) {
    for (const name of [arg.name, ...(arg.aliases ?? [])]) {
      if (seen.has(name)) throw new Error(`function ${declaration.name}: argument ${name} is declared twice`);
      seen.add(name);
    }
  }
}

/** The registry of the reference's functions, plus any extra declarations (tests, extensions). */
export function createFunctionRegistry(extra: readonly FunctionDeclaration[] = []): FunctionRegistry {
  return new FunctionRegistry([...ALL_FUNCTIONS, ...extra]);
}
