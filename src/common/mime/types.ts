/** Types of the archive-time message parser (exported from index.ts). */
import type { Addr } from './address.js';

export type { Addr };

/** One node of the MIME tree, with byte offsets into the CRLF message. */
export interface MimePart {
  /** IMAP part specifier: '' for the root message, '1', '1.2', ... (RFC 3501 §6.4.5).
   * A non-multipart root's body is BODY[1]. The root of the message inside
   * message/rfc822 part N carries N, so its parts are 'N.1', 'N.2' (and its
   * body, when it is not multipart, is 'N.1'). When the message/rfc822 part
   * is itself a message root ('' or M), the inner root is '1' or 'M.1'. */
  partId: string;
  /** Header block: headerEnd is the start of the body (after the empty line). */
  headerStart: number;
  headerEnd: number;
  bodyStart: number;
  bodyEnd: number;
  /** Lowercase; text/plain by default, message/rfc822 inside multipart/digest. */
  type: string;
  subtype: string;
  /** Content-Type parameters, keys lowercase, RFC 2231 / 2047 decoded. */
  params: Record<string, string>;
  /** Content-Transfer-Encoding as sent ('7bit' when absent). */
  encoding: string;
  id: string | null;
  description: string | null;
  md5: string | null;
  location: string | null;
  language: string[] | null;
  disposition: { type: string; params: Record<string, string> } | null;
  /** Number of LF in the body (Dovecot's body_size.lines); counted for text/* and message/* parts only, 0 for others (BODYSTRUCTURE shows no line count for them). */
  lines: number;
  children: MimePart[];
  /** For message/rfc822: the encapsulated message's root. (message/global is
   * a leaf, as in Dovecot; see tree.ts.) */
  message?: MimePart;
}

export interface AttachmentInfo {
  /** Section whose BODY[...] gives the attachment's encoded bytes. */
  partId: string;
  filename: string | null;
  contentType: string;
  /** Decoded size in bytes. */
  size: number;
  contentId: string | null;
  inline: boolean;
}

export interface MessageFields {
  subject: string;
  /** RFC 5256 §2.1 base subject (Re:/Fwd:/[list] removed), for SORT and THREAD. */
  baseSubject: string;
  from: string;
  to: string;
  cc: string;
  bcc: string;
  replyTo: string;
  messageId: string | null;
  inReplyTo: string | null;
  references: string[];
  /** ms since epoch from Date:, or null when missing or unparseable. */
  date: number | null;
  /** Zone of the Date: header in minutes east of UTC (SENTON etc. use the
   * sender's local day: date + dateZoneMinutes * 60000); null without date. */
  dateZoneMinutes: number | null;
}

export interface MessageAddresses {
  from: Addr[];
  to: Addr[];
  cc: Addr[];
  bcc: Addr[];
  sender: Addr[];
  replyTo: Addr[];
}

export interface ParsedMessage {
  root: MimePart;
  /** RFC822.SIZE: bytes of the CRLF form. */
  size: number;
  /** ENVELOPE as Dovecot serialises it, "(...)". Literal lengths count UTF-8 bytes. */
  envelope: string;
  /** BODYSTRUCTURE with extension data, "(...)". */
  bodyStructure: string;
  /** BODY (no extension data), "(...)". */
  body: string;
  fields: MessageFields;
  addresses: MessageAddresses;
  /** Decoded text for the full-text index; parts separated by "\n". */
  text: string;
  /** The part of `text` that came from attachments (text files, HTML files), for "attachment contents" search. */
  attachmentText: string;
  attachments: AttachmentInfo[];
  hasAttachments: boolean;
  /** What was broken in the message; parsing never throws. */
  problems: string[];
}
