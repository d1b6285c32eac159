/**
 * Every bound the IMAP protocol layer enforces, in one place, each with its reason.
 *
 * The parser and the argument parsers never allocate or recurse beyond these numbers, whatever a
 * client sends. Values that an operator may want to change are gathered in `ParserLimits`; the
 * rest are fixed because they only protect the server and no real client comes near them.
 */

/**
 * Longest command line, in bytes, counting every line segment of one command but not the bytes of
 * its literals and not the CRLF. RFC 7162 §4 asks servers to accept at least 8,192 octets; 64 KiB
 * leaves room for long UID sets sent by clients that do not compress ranges (Thunderbird, Apple
 * Mail) while keeping the per-connection buffer small.
 */
export const MAX_COMMAND_LINE_BYTES = 64 * 1024;

/**
 * Default largest APPEND literal. The archive is read-only, so APPEND data is read and discarded
 * (never buffered); the bound only stops a client from tying up a connection with an endless
 * upload. 64 MiB covers the message size limits of common mail systems.
 */
export const DEFAULT_MAX_APPEND_LITERAL_BYTES = 64 * 1024 * 1024;

/**
 * Largest literal in any command other than APPEND. Such literals (LOGIN passwords, mailbox
 * names, SEARCH strings) are buffered in memory, and no legitimate one comes near 64 KiB.
 */
export const MAX_NON_APPEND_LITERAL_BYTES = 64 * 1024;

/**
 * Largest sum of literal bytes buffered for one non-APPEND command, so that many literals each
 * under the per-literal bound cannot add up to an unbounded buffer.
 */
export const MAX_COMMAND_LITERAL_TOTAL_BYTES = 1024 * 1024;

/**
 * Deepest nesting of parenthesised lists in one command. The deepest real grammar is a SEARCH with
 * grouped keys or a BODYSTRUCTURE-shaped argument; 32 levels is far beyond either and keeps every
 * recursive consumer of the token tree safe from stack exhaustion.
 */
export const MAX_LIST_NESTING_DEPTH = 32;

/**
 * Most comma-separated ranges in one sequence set. A 64 KiB line holds at most ~16,000 short
 * ranges; the bound keeps membership tests and range merging cheap.
 */
export const MAX_SEQUENCE_SET_RANGES = 16_384;

/** Most search keys (counting every key and operator) in one SEARCH command; each costs a pass. */
export const MAX_SEARCH_KEYS = 1_000;

/**
 * Deepest nesting of NOT/OR/parenthesised groups in one SEARCH. The evaluator recurses over the
 * tree, so depth is bounded independently of the parser's list nesting (`NOT NOT NOT ...` nests
 * without any parentheses).
 */
export const MAX_SEARCH_DEPTH = 32;

/** Most FETCH attributes in one command; the full attribute set is ~25, sections add a few. */
export const MAX_FETCH_ITEMS = 256;

/** Most header field names in one `HEADER.FIELDS (...)` section. */
export const MAX_HEADER_FIELD_NAMES = 256;

/**
 * Bad commands a client may send before authentication before it is disconnected: a human typing
 * makes a mistake or two, a port scanner or a non-IMAP protocol keeps failing (Dovecot's
 * imap-login uses the same number).
 */
export const MAX_BAD_COMMANDS_PRE_AUTH = 3;

/** Longest tag accepted; longer tags are never echoed back. Real clients use under 16 bytes. */
export const MAX_TAG_BYTES = 64;

/**
 * Default time a single write may wait for the peer to drain its receive window before the writer
 * gives up and rejects it; a client that stops reading must not keep a FETCH (and its archive
 * reads) open forever.
 */
export const DEFAULT_OUTPUT_STALL_TIMEOUT_MS = 5 * 60 * 1000;

/** Operator-tunable parser limits. */
export interface ParserLimits {
  /** Longest command line in bytes, literals and CRLF excluded. */
  readonly maxLineBytes: number;
  /** Largest literal accepted (and discarded) in APPEND. */
  readonly maxAppendLiteralBytes: number;
  /** Largest literal in any other command. */
  readonly maxLiteralBytes: number;
  /** Largest sum of buffered literal bytes in one non-APPEND command. */
  readonly maxCommandLiteralTotalBytes: number;
  /** Deepest parenthesised list nesting. */
  readonly maxListDepth: number;
}

export const DEFAULT_PARSER_LIMITS: ParserLimits = Object.freeze({
  maxLineBytes: MAX_COMMAND_LINE_BYTES,
  maxAppendLiteralBytes: DEFAULT_MAX_APPEND_LITERAL_BYTES,
  maxLiteralBytes: MAX_NON_APPEND_LITERAL_BYTES,
  maxCommandLiteralTotalBytes: MAX_COMMAND_LITERAL_TOTAL_BYTES,
  maxListDepth: MAX_LIST_NESTING_DEPTH,
});

/**
 * Longest string the writer sends as a quoted string; longer ones go as literals. Quoted strings
 * must fit in a client's line buffer, and some clients (older Outlook) choke on long quoted text.
 */
export const MAX_QUOTED_STRING_BYTES = 1024;
