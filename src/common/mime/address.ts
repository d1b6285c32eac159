/**
 * RFC 5322 §3.4 address lists, parsed the way Dovecot's message-address.c
 * does so that ENVELOPE matches it: groups become a start marker
 * (NIL NIL "group" NIL) and an end marker (NIL NIL NIL NIL) (RFC 3501 §7.4.2);
 * source routes are kept ("@a,@b"); a missing local part or domain is filled
 * with MISSING_MAILBOX / MISSING_DOMAIN; a comment after a bare addr-spec
 * becomes the display name ("user@domain (Real Name)"); a broken angle-addr
 * gets the domain SYNTAX_ERROR. Parsing stops at the first garbage that is not
 * a "," separator.
 */
import { MAX_ADDRESSES_PER_HEADER } from './limits.js';
import { Rfc822Lexer } from './rfc822-lexer.js';
import { decodeEncodedWords } from './rfc2047.js';

/** One ENVELOPE address structure; group markers have domain === null. */
export interface EnvelopeAddress {
  name: string | null;
  route: string | null;
  mailbox: string | null;
  domain: string | null;
}

/** Decoded address for display and search. */
export interface Addr {
  name: string | null;
  address: string | null;
  /** Members when this entry is a group ("undisclosed-recipients:;"). */
  group?: Addr[];
}

const MISSING_MAILBOX = 'MISSING_MAILBOX';
const MISSING_DOMAIN = 'MISSING_DOMAIN';
const SYNTAX_ERROR = 'SYNTAX_ERROR';

class AddressParser {
  readonly out: EnvelopeAddress[] = [];
  private cur: EnvelopeAddress = { name: null, route: null, mailbox: null, domain: null };
  constructor(private readonly lx: Rfc822Lexer) {}

  private push(): void {
    this.out.push(this.cur);
    this.cur = { name: null, route: null, mailbox: null, domain: null };
  }

  private pushFixed(): void {
    if (this.cur.mailbox === null) this.cur.mailbox = MISSING_MAILBOX;
    if (this.cur.domain === null) this.cur.domain = MISSING_DOMAIN;
    this.push();
  }

  private localPart(): boolean {
    const lx = this.lx;
    if (lx.atEnd) return false;
    const v = lx.peek() === '"' ? lx.quoted() : lx.dotAtom();
    if (v === null) return false;
    lx.skipCfws();
    this.cur.mailbox = v;
    return true;
  }

  private domainPart(): boolean {
    const lx = this.lx;
    lx.pos++; // '@'
    const d = lx.domain();
    lx.skipCfws();
    if (d === null) return false;
    this.cur.domain = d;
    return true;
  }

  /** "<" [ "@" route ":" ] local-part "@" domain ">" (obs-angle-addr, RFC 5322 §4.4) */
  private angleAddr(): boolean {
    const lx = this.lx;
    lx.pos++; // '<'
    if (!lx.skipCfws()) return false;
    if (lx.peek() === '@') {
      let route = '';
      while (lx.peek() === '@') {
        lx.pos++;
        const d = lx.domain();
        if (d === null) break;
        route += (route ? ',' : '') + '@' + d;
        while (lx.skipCfws() && lx.peek() === ',') lx.pos++;
      }
      if (lx.peek() !== ':') {
        this.cur.route = 'INVALID_ROUTE';
        return false;
      }
      this.cur.route = route;
      lx.pos++;
      if (!lx.skipCfws()) return false;
    }
    if (!this.localPart()) return false;
    if (lx.peek() === '@' && !this.domainPart()) return false;
    if (lx.peek() !== '>') return false;
    lx.pos++;
    lx.skipCfws();
    return true;
  }

  /** mailbox = name-addr / addr-spec */
  private mailbox(): void {
    const lx = this.lx;
    const start = lx.pos;
    const phrase = lx.phrase();
    lx.skipCfws();
    if (lx.peek() === '<') {
      this.cur.name = phrase === '' ? null : phrase;
      if (!this.angleAddr()) {
        this.cur.domain = SYNTAX_ERROR;
        // resynchronise at the next "," or end
        const s = lx.s;
        while (lx.pos < s.length && s[lx.pos] !== ',' && s[lx.pos] !== ';') lx.pos++;
      }
    } else {
      lx.pos = start;
      lx.lastComment = '';
      this.localPart();
      if (lx.peek() === '@') this.domainPart();
      if (lx.lastComment !== '') this.cur.name = lx.lastComment;
    }
    this.pushFixed();
  }

  /** group = display-name ":" [group-list] ";" [CFWS] */
  private group(): boolean {
    const lx = this.lx;
    const start = lx.pos;
    const name = lx.phrase();
    lx.skipCfws();
    if (name === null || lx.peek() !== ':') {
      lx.pos = start;
      return false;
    }
    lx.pos++;
    this.cur.mailbox = name;
    this.push();
    let ok = lx.skipCfws();
    if (ok && lx.peek() !== ';') {
      for (;;) {
        if (this.out.length >= MAX_ADDRESSES_PER_HEADER) break;
        const before = lx.pos;
        this.mailbox();
        if (lx.atEnd || lx.pos === before) {
          ok = false;
          break;
        }
        if (lx.peek() !== ',') break;
        lx.pos++;
        if (!lx.skipCfws()) {
          ok = false;
          break;
        }
      }
    }
    if (ok && lx.peek() === ';') {
      lx.pos++;
      lx.skipCfws();
    }
    this.push(); // end-of-group marker
    return true;
  }

  parseList(): void {
    const lx = this.lx;
    if (!lx.skipCfws()) return;
    while (this.out.length < MAX_ADDRESSES_PER_HEADER) {
      if (!this.group()) this.mailbox();
      if (lx.atEnd) return;
      // Garbage: stop like Dovecot. An empty element (", ,") was recorded as
      // MISSING_MAILBOX above and parsing goes on after the comma.
      if (lx.peek() !== ',') return;
      lx.pos++;
      if (!lx.skipCfws()) return;
    }
  }
}

/** Parse an address header value (unfolded or not) into ENVELOPE structures. */
export function parseAddressList(value: string): EnvelopeAddress[] {
  const p = new AddressParser(new Rfc822Lexer(value));
  p.parseList();
  return p.out;
}

function joinAddress(a: EnvelopeAddress): string | null {
  const mailbox = a.mailbox === MISSING_MAILBOX ? '' : (a.mailbox ?? '');
  const domain = a.domain === MISSING_DOMAIN || a.domain === SYNTAX_ERROR ? '' : (a.domain ?? '');
  if (!mailbox && !domain) return null;
  return domain ? `${mailbox}@${domain}` : mailbox;
}

/** ENVELOPE structures → decoded addresses (names RFC 2047-decoded), groups nested. */
export function toAddrs(list: EnvelopeAddress[]): Addr[] {
  const out: Addr[] = [];
  let group: Addr | null = null;
  for (const a of list) {
    if (a.domain === null) {
      if (group === null && a.mailbox !== null) {
        group = { name: decodeEncodedWords(a.mailbox), address: null, group: [] };
        out.push(group);
      } else {
        group = null;
      }
      continue;
    }
    const addr: Addr = { name: a.name === null ? null : decodeEncodedWords(a.name), address: joinAddress(a) };
    if (group) group.group!.push(addr);
    else out.push(addr);
  }
  return out;
}

function quoteDisplayName(name: string): string {
  return /[",:;<>@[\]\\]/.test(name) ? `"${name.replace(/(["\\])/g, '\\$1')}"` : name;
}

/** "Name <addr>, other@example.org, Group: a@b;" for display and search. */
export function formatAddrs(list: Addr[]): string {
  return list
    .map((a) => {
      if (a.group) return `${quoteDisplayName(a.name ?? '')}: ${formatAddrs(a.group)};`;
      if (a.name && a.address) return `${quoteDisplayName(a.name)} <${a.address}>`;
      return a.address ?? a.name ?? '';
    })
    .join(', ');
}
