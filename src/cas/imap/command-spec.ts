/**
 * The shape every IMAP command module exports (STYLE.md rule 2): its name, the states it may run
 * in, a schema that turns raw tokens into typed arguments (or a BAD, before the handler runs), and
 * an async handler that talks to the session and, through it, to the typed instance interface.
 */
import type { ParseResult, ResponseCode, Token } from './protocol/index.js';
import type { Session } from './session.js';

/** RFC 3501 §3: the connection states. */
export type SessionState = 'not-authenticated' | 'authenticated' | 'selected' | 'logout';

export const ANY_STATE: readonly SessionState[] = ['not-authenticated', 'authenticated', 'selected'];
export const AUTHENTICATED: readonly SessionState[] = ['authenticated', 'selected'];
export const SELECTED: readonly SessionState[] = ['selected'];
export const NOT_AUTHENTICATED: readonly SessionState[] = ['not-authenticated'];

export interface ParseContext {
  /** The command was sent as `UID <name>`. */
  readonly isUid: boolean;
}

/** The tagged answer a handler returns; expected outcomes are values, bugs are exceptions (rule 9). */
export interface CommandOutcome {
  readonly status: 'OK' | 'NO' | 'BAD';
  readonly code?: ResponseCode;
  readonly text: string;
  /** Runs after the tagged response was written (STARTTLS upgrades, LOGOUT closes). */
  readonly after?: () => Promise<void> | void;
}

export interface CommandContext {
  readonly tag: string;
  readonly isUid: boolean;
  readonly session: Session;
}

export interface CommandSpec<Args = unknown> {
  /** Upper-case command name as sent on the wire. */
  readonly name: string;
  readonly states: readonly SessionState[];
  /** True when `UID <name>` is allowed (FETCH, SEARCH, STORE, COPY, MOVE, EXPUNGE). */
  readonly allowsUid?: boolean;
  /** Turns the argument tokens into typed arguments; a failure is answered BAD before the handler runs. */
  parse(args: readonly Token[], context: ParseContext): ParseResult<Args>;
  handler(context: CommandContext, args: Args): Promise<CommandOutcome>;
}

/** Builds a spec with the argument type inferred, so the registry can hold specs of any type. */
export function defineCommand<Args>(spec: CommandSpec<Args>): CommandSpec<unknown> {
  return spec as unknown as CommandSpec<unknown>;
}

export function okOutcome(text: string, code?: ResponseCode): CommandOutcome {
  return code === undefined ? { status: 'OK', text } : { status: 'OK', code, text };
}

export function noOutcome(text: string, code?: ResponseCode): CommandOutcome {
  return code === undefined ? { status: 'NO', text } : { status: 'NO', code, text };
}
