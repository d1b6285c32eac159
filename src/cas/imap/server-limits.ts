/**
 * Every bound and timeout of the IMAP server (outside the wire parser, whose limits live in
 * `protocol/limits.ts`), each with its reason. Operators override them through `ImapServerOptions`.
 */

/** Before login a client has no reason to be silent for long; port scanners and stuck TLS handshakes are cut off. */
export const DEFAULT_PRE_AUTH_IDLE_TIMEOUT_MS = 60_000;

/** RFC 3501 §5.4: an autologout timer must be at least 30 minutes; clients re-issue IDLE within 29. */
export const DEFAULT_AUTH_IDLE_TIMEOUT_MS = 30 * 60_000;

/**
 * Untagged `* OK Still here` during IDLE. RFC 2177 wants at least one every 29 minutes; NAT boxes
 * and mobile networks drop silent TCP flows much sooner, so Coffer sends one every 2 minutes, as
 * Dovecot's `imap_idle_notify_interval` does.
 */
export const DEFAULT_IDLE_KEEPALIVE_MS = 2 * 60_000;

/** While in IDLE the folder is also re-checked this often, in case a change event was lost. */
export const DEFAULT_IDLE_POLL_MS = 60_000;

/**
 * Connections one remote address may hold at once. Thunderbird opens up to 5 per account, Apple
 * Mail and Outlook a few each, and a household or office may share one NAT address.
 */
export const DEFAULT_MAX_CONNECTIONS_PER_ADDRESS = 100;

/** Messages whose metadata one instance call returns during FETCH: big enough to amortise the RPC, small enough to stream. */
export const FETCH_META_BATCH_SIZE = 500;

/**
 * Messages whose body reads FETCH keeps in flight ahead of the one being written (bytes bound them
 * too, below): each batch of reads is a round trip to the instance, and overlapping them keeps
 * the client's connection busy. The window is refilled when half of it has been written, so small
 * messages travel in batches of about half this many (at most READ_BATCH_MAX_ITEMS a call). With
 * 64 a download of small messages waited on the instance a third of the time; 512 keeps about
 * 1.6 MB of 3 KB messages in flight.
 */
export const BODY_READ_AHEAD_MESSAGES = 512;

/** Byte ranges up to this size are read in batches, one instance call for many (instance api.ts READ_BATCH_*); larger ones stream. */
export const BODY_BATCH_RANGE_BYTES = 256 * 1024;

/**
 * Bytes of messages FETCH reads ahead at most. Small messages are what the round trips cost;
 * large ones stream at full speed anyway, and 50 clients each holding 32 large messages' windows
 * would pin hundreds of megabytes.
 */
export const BODY_READ_AHEAD_BYTES = 2 * 1024 * 1024;

/** How long the server waits for LOGOUT-less sessions to take their `* BYE` before it closes them at shutdown. */
export const SHUTDOWN_GRACE_MS = 5_000;

/** First delay after a failed login; doubles with each further failure of the same address or name. */
export const DEFAULT_AUTH_FAILURE_DELAY_MS = 2_000;

/** Longest delay after failed logins, so a user who mistyped a few times is not locked out for long. */
export const MAX_AUTH_FAILURE_DELAY_MS = 15_000;

/** Failures are forgotten after this long without another failure. */
export const AUTH_FAILURE_MEMORY_MS = 15 * 60_000;

/** Most addresses and names the failure table keeps; the oldest are dropped first. */
export const MAX_AUTH_FAILURE_ENTRIES = 100_000;

/** Folder list cached per session, so STATUS on every folder (Thunderbird) costs one instance call. */
export const FOLDER_LIST_CACHE_MS = 3_000;

/** Connection-log lines are sent to the instance in batches at most this often. */
export const CONNECTION_LOG_FLUSH_MS = 1_000;

/** Key/value pairs accepted in ID (RFC 2971 §3.3 allows 30). */
export const MAX_ID_PAIRS = 30;
