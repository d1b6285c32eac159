/**
 * Deterministic generator of realistic archive mail for benchmarks: threads, several languages,
 * plain and HTML alternatives, attachments (PDF-like, images, office documents) with a size mix
 * whose mean is about 75 KB, as in a business mailbox. A quarter of the attachments repeat one of
 * an earlier message (a document forwarded, sent to several people, archived from the sender's
 * and the recipients' mailboxes). Real archives repeat more: in 18.5 million corporate messages,
 * half the bytes of their parts were repeats (https://256stuff.com/gray/docs/misc/email_size_analysis/).
 * `repeatedAttachments: 0` gives mail whose every attachment is new.
 */
import { seededRandom } from '../common/random.js';
const WORDS = {
  en: 'the project budget meeting schedule report quarterly invoice customer delivery contract review draft proposal update deadline team office travel approval payment order shipment warehouse inventory forecast marketing campaign launch release server network backup security audit policy training holiday conference agenda minutes feedback request question answer please thanks regards tomorrow today friday monday morning afternoon attached document version final changes comments'.split(' '),
  de: 'das Projekt Budget Besprechung Termin Bericht Rechnung Kunde Lieferung Vertrag Entwurf Angebot Aktualisierung Frist Mannschaft Büro Reise Genehmigung Zahlung Bestellung Lager Prognose Kampagne Veröffentlichung Sicherung Prüfung Richtlinie Schulung Urlaub Konferenz Tagesordnung Protokoll Rückmeldung Anfrage Frage Antwort bitte danke Grüße morgen heute Freitag Montag Änderungen Anmerkungen Größe Übersicht'.split(' '),
  fr: 'le projet budget réunion calendrier rapport facture client livraison contrat révision brouillon proposition mise à jour échéance équipe bureau voyage approbation paiement commande entrepôt prévision campagne lancement sécurité audit politique formation vacances conférence ordre du jour procès-verbal demande question réponse merci cordialement demain aujourd’hui vendredi lundi'.split(' '),
  ja: '会議 予算 報告 請求書 顧客 納品 契約 提案 更新 締切 出張 承認 支払 注文 在庫 予測 販売 発表 資料 確認 お願い ありがとう 明日 今日 金曜日 月曜日 変更'.split(' '),
};
const LANGS = ['en', 'en', 'en', 'de', 'de', 'fr', 'ja'] as const;
const FIRST = ['Anna', 'Ben', 'Clara', 'David', 'Eva', 'Felix', 'Greta', 'Hans', 'Ines', 'Jonas', 'Karin', 'Lukas', 'Maria', 'Noah', 'Olga', 'Paul', 'Rita', 'Sven', 'Tina', 'Uwe', 'Yuki', 'Hiro', 'Chloé', 'Élodie'];
const LAST = ['Müller', 'Schmidt', 'Meyer', 'Weber', 'Wagner', 'Becker', 'Smith', 'Jones', 'Brown', 'Martin', 'Bernard', 'Dubois', 'Tanaka', 'Suzuki', 'Novak', 'Keller'];
const DOMAINS = ['example.com', 'example.org', 'acme.example', 'globex.example', 'initech.example'];

export const rng = seededRandom;

const pick = <T>(r: () => number, a: readonly T[]): T => a[Math.floor(r() * a.length)]!;

function sentence(r: () => number, lang: keyof typeof WORDS, n: number): string {
  const w: string[] = [];
  for (let i = 0; i < n; i++) w.push(pick(r, WORDS[lang]));
  const s = lang === 'ja' ? w.join('') + '。' : w.join(' ') + '.';
  return s.charAt(0).toUpperCase() + s.slice(1);
}

function encodeWord(s: string): string {
  return /^[\x20-\x7e]*$/.test(s) ? s : `=?UTF-8?B?${Buffer.from(s).toString('base64')}?=`;
}

/**
 * Base64 in 76-character lines, each full line followed by CRLF (so a body whose length is a
 * multiple of 76 ends in CRLF), written straight into a buffer: a regular expression over the
 * encoded string was most of the generator's time.
 */
function base64Lines(b: Buffer): Buffer {
  const enc = Buffer.from(b.toString('base64'), 'latin1');
  const full = Math.floor(enc.length / 76);
  const out = Buffer.allocUnsafe(enc.length + full * 2);
  let o = 0;
  for (let s = 0; s < full * 76; s += 76) {
    o += enc.copy(out, o, s, s + 76);
    out[o++] = 0x0d;
    out[o++] = 0x0a;
  }
  enc.copy(out, o, full * 76);
  return out;
}

function person(r: () => number): { name: string; addr: string } {
  const f = pick(r, FIRST), l = pick(r, LAST);
  return { name: `${f} ${l}`, addr: `${f.toLowerCase().normalize('NFD').replace(/[^\w]/g, '')}.${l.toLowerCase().normalize('NFD').replace(/[^\w]/g, '')}@${pick(r, DOMAINS)}` };
}

/** Incompressible bytes come from one deterministic pool (filling each attachment from the PRNG was the generator's bottleneck). */
const POOL_BYTES = 8 * 1024 * 1024;
let pool: Buffer | null = null;
function noise(r: () => number, size: number): Buffer {
  if (!pool) {
    pool = Buffer.alloc(POOL_BYTES);
    const pr = rng(0xc0ffee);
    for (let i = 0; i < POOL_BYTES; i += 4) pool.writeUInt32LE(Math.floor(pr() * 4294967296), i);
  }
  const n = Math.min(size, POOL_BYTES);
  const start = Math.floor(r() * (POOL_BYTES - n));
  return pool.subarray(start, start + n);
}

function attachment(r: () => number, lang: keyof typeof WORDS): { name: string; type: string; data: Buffer } {
  const kind = r();
  // Sizes are log-normal-ish around tens to hundreds of KB, like real office attachments.
  const size = Math.floor(20_000 * Math.exp(r() * 2.6));
  if (kind < 0.35) {
    // PDF-like: a text layer that compresses, plus binary streams that do not.
    const text = Array.from({ length: 40 }, () => sentence(r, lang, 12)).join('\n');
    const bin = noise(r, Math.max(0, size - text.length));
    return { name: `${pick(r, WORDS.en)}-report.pdf`, type: 'application/pdf', data: Buffer.concat([Buffer.from(`%PDF-1.4\nBT (${text}) ET\n`), bin]) };
  }
  if (kind < 0.7) {
    const img = noise(r, size);
    return { name: `photo-${Math.floor(r() * 9999)}.jpg`, type: 'image/jpeg', data: img };
  }
  if (kind < 0.85) {
    let rows = '';
    for (let i = 0, n = Math.floor(size / 60); i < n; i++) rows += `${i === 0 ? '' : '\r\n'}${i};${pick(r, WORDS.en)};${Math.floor(r() * 10000)};${pick(r, WORDS.de)}`;
    return { name: 'export.csv', type: 'text/csv', data: Buffer.from(rows) };
  }
  // Office documents are zip files: mostly compressed data with some structure.
  const doc = Buffer.concat([noise(r, Math.floor(size * 0.8)), Buffer.alloc(Math.floor(size * 0.2), 0x20)]);
  return { name: `${pick(r, WORDS.en)}.docx`, type: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document', data: doc };
}

export interface GeneratedMessage { raw: Buffer; subject: string; words: string[] }

/** Share of messages with attachments, and share of attachments that repeat an earlier message's. */
const WITH_ATTACHMENTS = 0.4;
export const REPEATED_ATTACHMENTS = 0.25;
/** A repeat is of a document sent in the last this many messages. */
const REPEAT_WINDOW = 200;

/** Whether message `i` carries attachments, and how many: its own stream, so other messages can ask. */
function attachmentCount(seed: number, i: number): number {
  const r = rng(seed * 7_000_003 + i + 0x51ed);
  return r() < WITH_ATTACHMENTS ? 1 + Math.floor(r() * 2) : 0;
}

/** Document `k` of message `i`: the same bytes, name and type wherever it is attached. */
function document(seed: number, i: number, k: number): ReturnType<typeof attachment> {
  const r = rng((seed * 1_000_003 + i) * 4 + k + 0x9e37);
  return attachment(r, pick(r, LANGS));
}

/** The attachments of message `i`: its own documents, or with `repeatShare` chance each, the first document of an earlier message. */
function attachmentsOf(seed: number, i: number, repeatShare: number): ReturnType<typeof attachment>[] {
  const n = attachmentCount(seed, i);
  const r = rng(seed * 5_000_011 + i + 0xa77);
  const out: ReturnType<typeof attachment>[] = [];
  for (let k = 0; k < n; k++) {
    let earlier = -1;
    if (r() < repeatShare) {
      for (let j = i - 1 - Math.floor(r() * REPEAT_WINDOW), tries = 0; j >= 0 && tries < 50; j--, tries++) if (attachmentCount(seed, j) > 0) { earlier = j; break; }
    }
    out.push(earlier >= 0 ? document(seed, earlier, 0) : document(seed, i, k));
  }
  return out;
}

/** Message `i` of a deterministic mailbox; replies point at earlier messages (threads). */
export function generateMessage(seed: number, i: number, opts: { attachments?: boolean; repeatedAttachments?: number } = {}): GeneratedMessage {
  const r = rng(seed * 1_000_003 + i);
  const lang = pick(r, LANGS);
  const from = person(r), to = person(r);
  const cc = r() < 0.3 ? person(r) : null;
  const thread = Math.floor(i / 4);
  const isReply = i % 4 !== 0;
  const topic = rng(seed + thread);
  const subject = `${isReply ? 'Re: ' : ''}${sentence(topic, lang, 4).replace(/[.。]$/, '')}`;
  const date = new Date(Date.UTC(2015, 0, 1) + i * 3_600_000 * 7 + Math.floor(r() * 3_600_000));
  const paragraphs = Array.from({ length: 3 + Math.floor(r() * 12) }, () => sentence(r, lang, 8 + Math.floor(r() * 20)));
  const text = `${paragraphs.join('\r\n\r\n')}\r\n\r\n-- \r\n${from.name}\r\n`;
  const html = `<html><body>${paragraphs.map((p) => `<p>${p}</p>`).join('')}<p>--<br>${from.name}</p></body></html>`;
  const headers = [
    `Return-Path: <${from.addr}>`,
    `Received: from mail.${pick(r, DOMAINS)} (mail [192.0.2.${Math.floor(r() * 250)}]) by mx.example.com with ESMTPS id ${Math.floor(r() * 1e12).toString(36)}; ${date.toUTCString().replace('GMT', '+0000')}`,
    `From: ${encodeWord(from.name)} <${from.addr}>`,
    `To: ${encodeWord(to.name)} <${to.addr}>`,
    ...(cc ? [`Cc: ${encodeWord(cc.name)} <${cc.addr}>`] : []),
    `Subject: ${encodeWord(subject)}`,
    `Date: ${date.toUTCString().replace('GMT', '+0000')}`,
    `Message-ID: <${seed}.${i}@mail.example.com>`,
    ...(isReply ? [`In-Reply-To: <${seed}.${i - 1}@mail.example.com>`, `References: <${seed}.${thread * 4}@mail.example.com>`] : []),
    'MIME-Version: 1.0',
  ];
  const alt = `alt-${seed}-${i}`;
  const altPart = [`Content-Type: multipart/alternative; boundary="${alt}"`, '', `--${alt}`, 'Content-Type: text/plain; charset=utf-8', 'Content-Transfer-Encoding: 8bit', '', text, `--${alt}`, 'Content-Type: text/html; charset=utf-8', 'Content-Transfer-Encoding: quoted-printable', '', html.replace(/=/g, '=3D'), `--${alt}--`, ''].join('\r\n');
  const attachments = (opts.attachments ?? true) ? attachmentsOf(seed, i, opts.repeatedAttachments ?? REPEATED_ATTACHMENTS) : [];
  let raw: Buffer;
  if (attachments.length === 0) raw = Buffer.from(`${headers.join('\r\n')}\r\n${altPart}`, 'utf8');
  else {
    const mix = `mix-${seed}-${i}`;
    // Text pieces and base64 bodies are joined as buffers (the same bytes as joining strings, without
    // building and re-encoding megabytes of string).
    const pieces: Buffer[] = [Buffer.from([`${headers.join('\r\n')}`, `Content-Type: multipart/mixed; boundary="${mix}"`, '', `--${mix}`, altPart, ''].join('\r\n'), 'utf8')];
    for (const a of attachments) {
      pieces.push(Buffer.from([`--${mix}`, `Content-Type: ${a.type}; name="${a.name}"`, 'Content-Transfer-Encoding: base64', `Content-Disposition: attachment; filename="${a.name}"`, '', ''].join('\r\n'), 'utf8'), base64Lines(a.data), Buffer.from('\r\n'));
    }
    pieces.push(Buffer.from(`--${mix}--\r\n`));
    raw = Buffer.concat(pieces);
  }
  // The first five words (at least three paragraphs of whole words, so five paragraphs always hold them).
  return { raw, subject, words: paragraphs.slice(0, 5).join(' ').split(/\s+/).slice(0, 5) };
}
