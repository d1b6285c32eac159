/** The shape of one function implementation on the Management Server. */
import type { InvokeContext } from '../api/plugin.js';
import type { AuthenticatedAdmin } from '../admins.js';

export type FunctionHandler = (args: Readonly<Record<string, unknown>>, context: InvokeContext<AuthenticatedAdmin>) => Promise<unknown>;

/** Optional text argument: undefined when left out. */
export function optionalText(args: Readonly<Record<string, unknown>>, name: string): string | undefined {
  const value = args[name];
  return typeof value === 'string' ? value : undefined;
}

/** Arguments are validated at the edge; this only narrows the type. */
export function text(args: Readonly<Record<string, unknown>>, name: string): string {
  const value = args[name];
  if (typeof value !== 'string') throw new Error(`argument ${name} reached the handler as ${typeof value}`);
  return value;
}

export function object(args: Readonly<Record<string, unknown>>, name: string): Record<string, unknown> {
  const value = args[name];
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error(`argument ${name} reached the handler as ${typeof value}`);
  return value as Record<string, unknown>;
}
