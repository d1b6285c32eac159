/**
 * Parser limits. Each one bounds the work an untrusted message can cause;
 * the archive still stores the message when a limit is hit, it just stops
 * looking deeper and records a problem.
 */

/** Nesting of multipart / message/rfc822 levels. Real mail rarely goes past
 * 10 (forwarded-as-attachment chains); 100 keeps recursion in the serialisers
 * (BODYSTRUCTURE is written recursively) far from the JS stack limit. Dovecot
 * uses the same figure (MESSAGE_PARSER_DEFAULT_MAX_NESTED_MIME_PARTS). */
export const MAX_NESTING_DEPTH = 100;

/** Total MIME parts per message. Bounds BODYSTRUCTURE size (every part costs
 * ~100 bytes of it) and per-part work; Dovecot's default is 10000 too. */
export const MAX_PARTS = 10_000;

/** Addresses kept per address header: a To: list with more is a mail bomb,
 * and ENVELOPE grows linearly with it. */
export const MAX_ADDRESSES_PER_HEADER = 10_000;

/** RFC 5322 §2.1.1: lines must not exceed 998 characters (plus CRLF). Longer
 * lines are accepted, only reported. */
export const MAX_LINE_OCTETS = 998;

/** Characters of decoded text handed to the full-text index per message. The
 * index is for finding mail, not for storing a second copy of huge bodies. */
export const MAX_INDEX_TEXT_CHARS = 4 * 1024 * 1024;
