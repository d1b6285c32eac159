/**
 * Sample mail for the demo instance of `npm start`: a few hundred messages generated from a fixed
 * seed (the same bytes on every machine), with threads (Message-ID, In-Reply-To, References),
 * HTML alternatives, attachments (text, CSV, PNG, PDF-like), several languages and scripts with
 * RFC 2047 subjects and quoted-printable or base64 bodies, spread over folders and two years.
 */
import { createHash } from 'node:crypto';
import { seededRandom } from '../common/random.js';

export interface DemoMessage {
  readonly name: string;
  readonly folder: string;
  readonly raw: Buffer;
  readonly flags: string[];
  readonly internalDate: number;
}

export const DEMO_SEED = 20_240_917;
export const DEMO_MESSAGE_COUNT = 320;
/** Dates count back from here, not from "now", so the output never changes. */
const NEWEST_DATE_MS = Date.UTC(2026, 0, 15, 9, 30, 0);
const DAY_MS = 86_400_000;

const prng = seededRandom;

interface Language { code: string; subjects: string[]; greetings: string[]; lines: string[]; closing: string; replyPrefix: string }

const LANGUAGES: Language[] = [
  { code: 'en', replyPrefix: 'Re: ', closing: 'Best regards', greetings: ['Hi', 'Hello', 'Dear team'],
    subjects: ['Quarterly report draft', 'Lunch on Friday?', 'Server maintenance window', 'Invoice 2025-118', 'Project Apollo kickoff', 'Holiday schedule', 'New office keys', 'Budget review notes'],
    lines: ['Please find the latest figures attached.', 'Could you have a look before the meeting?', 'The deadline moved to next Thursday.', 'Thanks for the quick turnaround on this.', 'Let me know if anything is unclear.', 'I have added my comments in the document.'] },
  { code: 'de', replyPrefix: 'AW: ', closing: 'Viele Grüße', greetings: ['Hallo', 'Liebe Kolleginnen und Kollegen', 'Guten Tag'],
    subjects: ['Änderung der Öffnungszeiten', 'Rückfrage zur Lieferung', 'Protokoll der Besprechung', 'Urlaubsplanung für März', 'Größere Bestellung für Büromaterial'],
    lines: ['anbei die überarbeitete Fassung.', 'Können wir das am Dienstag besprechen?', 'Die Rechnung ist bereits überwiesen.', 'Für Rückfragen stehe ich gern zur Verfügung.', 'Bitte prüft die Zahlen noch einmal gründlich.'] },
  { code: 'fr', replyPrefix: 'RE: ', closing: 'Cordialement', greetings: ['Bonjour', 'Chère équipe'],
    subjects: ['Réunion de lancement', 'Facture du mois de février', 'Déménagement des bureaux', 'Compte rendu de la visite'],
    lines: ['Veuillez trouver ci-joint le document révisé.', 'Pourriez-vous confirmer votre présence ?', 'Le café sera servi à dix heures.', 'Merci beaucoup pour votre aide précieuse.'] },
  { code: 'es', replyPrefix: 'RE: ', closing: 'Saludos cordiales', greetings: ['Hola', 'Estimado equipo'],
    subjects: ['Presupuesto para el año próximo', 'Reunión del martes', 'Cambios en el contrato', 'Fotos de la conferencia'],
    lines: ['Adjunto el informe que pediste.', '¿Podemos hablar mañana por la mañana?', 'La entrega se retrasará dos días.', 'Muchas gracias por tu paciencia.'] },
  { code: 'ja', replyPrefix: 'Re: ', closing: 'よろしくお願いいたします。', greetings: ['お疲れ様です。', 'こんにちは。'],
    subjects: ['会議の議事録', '来週の出張について', '見積書の送付', '新製品の発表会'],
    lines: ['資料を添付いたしましたのでご確認ください。', '日程の調整をお願いできますでしょうか。', 'ご返信をお待ちしております。'] },
  { code: 'ru', replyPrefix: 'Re: ', closing: 'С уважением', greetings: ['Здравствуйте!', 'Коллеги, добрый день!'],
    subjects: ['Отчёт за квартал', 'Встреча в четверг', 'Новый график работы'],
    lines: ['Отправляю обновлённую версию документа.', 'Прошу подтвердить получение.', 'Спасибо за оперативный ответ.'] },
  { code: 'el', replyPrefix: 'Re: ', closing: 'Με εκτίμηση', greetings: ['Καλημέρα σας,'],
    subjects: ['Πρόγραμμα συνάντησης', 'Τιμολόγιο Μαρτίου'],
    lines: ['Σας επισυνάπτω το αρχείο.', 'Ευχαριστώ πολύ για τη βοήθεια.'] },
];

const PEOPLE = [
  ['Alice Martin', 'alice.martin@example.com'], ['Bernd Schäfer', 'bernd.schaefer@example.de'], ['Chloé Dubois', 'chloe.dubois@example.fr'],
  ['Diego García', 'diego.garcia@example.es'], ['Emi Tanaka', 'emi.tanaka@example.jp'], ['Fyodor Ivanov', 'f.ivanov@example.ru'],
  ['Grace O\'Neil', 'grace.oneil@example.org'], ['Hanna Nieminen', 'hanna@example.fi'], ['Ioanna Papadopoulou', 'ioanna@example.gr'],
] as const;
const DEMO_ADDRESS = ['Demo User', 'demo@demo.example'] as const;
const FOLDERS = ['Inbox', 'Inbox', 'Inbox', 'Sent', 'Projects/Apollo', 'Projects/Budget 2025', 'Newsletters'];

/** 1×1 PNG (a real one), so viewers show it. */
const TINY_PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR4nGNgYPj/HwADAgH/0bqKxQAAAABJRU5ErkJggg==', 'base64');

const isAscii = (s: string) => /^[\x20-\x7e]*$/.test(s);
function encodeWord(s: string): string {
  return isAscii(s) ? s : `=?UTF-8?B?${Buffer.from(s, 'utf8').toString('base64')}?=`;
}
function address([name, email]: readonly [string, string]): string {
  return `${/^[A-Za-z0-9 ]+$/.test(name) ? name : isAscii(name) ? `"${name.replace(/"/g, '')}"` : encodeWord(name)} <${email}>`;
}
function wrapBase64(buf: Buffer): string {
  return (buf.toString('base64').match(/.{1,76}/g) ?? []).join('\r\n');
}
/** Quoted-printable (RFC 2045 §6.7) of UTF-8 text, soft line breaks at 76. */
function quotedPrintable(text: string): string {
  const out: string[] = [];
  for (const line of text.split('\n')) {
    let encoded = '';
    for (const byte of Buffer.from(line, 'utf8')) {
      encoded += (byte >= 33 && byte <= 126 && byte !== 61) || byte === 32 ? String.fromCharCode(byte) : `=${byte.toString(16).toUpperCase().padStart(2, '0')}`;
    }
    if (encoded.endsWith(' ')) encoded = `${encoded.slice(0, -1)}=20`;
    let rest = encoded;
    while (rest.length > 75) {
      let cut = 75;
      if (rest[cut - 1] === '=') cut -= 1; else if (rest[cut - 2] === '=') cut -= 2;
      out.push(`${rest.slice(0, cut)}=`);
      rest = rest.slice(cut);
    }
    out.push(rest);
  }
  return out.join('\r\n');
}
function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

interface Thread { subject: string; language: Language; ids: string[]; participants: (readonly [string, string])[] }

export function generateDemoMessages(count = DEMO_MESSAGE_COUNT, seed = DEMO_SEED): DemoMessage[] {
  const random = prng(seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)]!;
  const threads: Thread[] = [];
  const messages: DemoMessage[] = [];
  for (let i = 0; i < count; i++) {
    const date = new Date(NEWEST_DATE_MS - Math.floor((count - i) * (730 / count) * DAY_MS + random() * DAY_MS));
    // About a third of the messages continue an open thread.
    const thread = threads.length > 0 && random() < 0.35 ? pick(threads.slice(-12)) : null;
    const language = thread?.language ?? pick(LANGUAGES);
    const subject = thread ? `${language.replyPrefix}${thread.subject}` : pick(language.subjects);
    const from = thread ? pick(thread.participants) : pick(PEOPLE);
    const folder = from === DEMO_ADDRESS ? 'Sent' : thread ? 'Inbox' : pick(FOLDERS);
    const isSent = folder === 'Sent';
    const sender = isSent ? DEMO_ADDRESS : from;
    const recipient = isSent ? pick(PEOPLE) : DEMO_ADDRESS;
    const messageId = `<demo.${i}.${createHash('sha1').update(`${seed}:${i}`).digest('hex').slice(0, 12)}@demo.example>`;
    const bodyLines = [`${pick(language.greetings)}`, '', ...Array.from({ length: 2 + Math.floor(random() * 4) }, () => pick(language.lines)), '', `${language.closing},`, sender[0]];
    if (thread) bodyLines.push('', `> ${pick(thread.language.lines)}`);
    const text = bodyLines.join('\n');
    const headers = [
      `From: ${address(sender)}`,
      `To: ${address(recipient)}`,
      ...(random() < 0.2 ? [`Cc: ${address(pick(PEOPLE))}`] : []),
      `Subject: ${encodeWord(subject)}`,
      `Date: ${date.toUTCString().replace('GMT', '+0000')}`,
      `Message-ID: ${messageId}`,
      ...(thread ? [`In-Reply-To: ${thread.ids[thread.ids.length - 1]}`, `References: ${thread.ids.slice(-5).join(' ')}`] : []),
      `Content-Language: ${language.code}`,
      'MIME-Version: 1.0',
    ];
    const textPart = ['Content-Type: text/plain; charset=UTF-8', 'Content-Transfer-Encoding: quoted-printable', '', quotedPrintable(text)].join('\r\n');
    const wantsHtml = random() < 0.45;
    const attachments = random() < 0.25 ? attachmentsFor(i, random) : [];
    let body: string;
    const b1 = `=_demo_alt_${i}`;
    const b2 = `=_demo_mixed_${i}`;
    const content = wantsHtml
      ? [`Content-Type: multipart/alternative; boundary="${b1}"`, '', `--${b1}`, textPart, `--${b1}`, 'Content-Type: text/html; charset=UTF-8', 'Content-Transfer-Encoding: base64', '', wrapBase64(Buffer.from(htmlOf(subject, bodyLines), 'utf8')), `--${b1}--`, ''].join('\r\n')
      : textPart;
    if (attachments.length > 0) {
      body = [`Content-Type: multipart/mixed; boundary="${b2}"`, '', 'This is a multi-part message in MIME format.', `--${b2}`, content, ...attachments.flatMap((a) => [`--${b2}`, a]), `--${b2}--`, ''].join('\r\n');
    } else body = content;
    const raw = Buffer.from(`${headers.join('\r\n')}\r\n${body}${body.endsWith('\r\n') ? '' : '\r\n'}`, 'utf8');
    messages.push({ name: `demo-${String(i).padStart(4, '0')}.eml`, folder, raw, flags: random() < 0.7 ? ['\\Seen'] : [], internalDate: date.getTime() });
    if (thread) { thread.ids.push(messageId); if (!thread.participants.includes(sender)) thread.participants.push(sender); }
    else threads.push({ subject, language, ids: [messageId], participants: [sender, DEMO_ADDRESS] });
  }
  return messages;
}

function htmlOf(subject: string, lines: string[]): string {
  const paragraphs = lines.filter((l) => l !== '').map((l) => (l.startsWith('> ') ? `<blockquote>${escapeHtml(l.slice(2))}</blockquote>` : `<p>${escapeHtml(l)}</p>`));
  return `<!doctype html><html><head><meta charset="utf-8"><title>${escapeHtml(subject)}</title></head><body style="font-family:sans-serif"><h2 style="color:#2a5d8f">${escapeHtml(subject)}</h2>${paragraphs.join('')}<p><img src="https://tracker.example.com/pixel.png" alt="" width="1" height="1"></p></body></html>`;
}

function attachmentsFor(i: number, random: () => number): string[] {
  const kinds = [
    () => ['Content-Type: text/csv; charset=UTF-8; name="figures.csv"', 'Content-Disposition: attachment; filename="figures.csv"', 'Content-Transfer-Encoding: base64', '', wrapBase64(Buffer.from(`month,revenue,costs\r\n${Array.from({ length: 12 }, (_, m) => `${m + 1},${1000 + ((i * 37 + m * 11) % 500)},${800 + ((i * 13 + m * 7) % 300)}`).join('\r\n')}\r\n`))].join('\r\n'),
    () => ['Content-Type: image/png; name="logo.png"', 'Content-Disposition: attachment; filename="logo.png"', 'Content-Transfer-Encoding: base64', '', wrapBase64(TINY_PNG)].join('\r\n'),
    () => ['Content-Type: text/plain; charset=UTF-8; name="notes.txt"', 'Content-Disposition: attachment; filename="notes.txt"', 'Content-Transfer-Encoding: quoted-printable', '', quotedPrintable(`Meeting notes #${i}\nAction items: review budget, confirm venue, send minutes.\nNächste Schritte: Angebot prüfen.`)].join('\r\n'),
    () => [`Content-Type: application/pdf; name="${encodeWord('Übersicht.pdf')}"`, `Content-Disposition: attachment; filename*=UTF-8''%C3%9Cbersicht.pdf`, 'Content-Transfer-Encoding: base64', '', wrapBase64(Buffer.from(`%PDF-1.4\n% Coffer demo ${i}\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n`))].join('\r\n'),
  ];
  const n = 1 + Math.floor(random() * 2);
  return Array.from({ length: n }, () => kinds[Math.floor(random() * kinds.length)]!());
}
