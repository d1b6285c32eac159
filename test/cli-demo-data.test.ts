import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { generateDemoMessages, DEMO_MESSAGE_COUNT } from '../src/cli/demo-data.js';
import { parseMessage } from '../src/common/mime/index.js';

const digest = (messages: { raw: Buffer }[]) => createHash('sha256').update(Buffer.concat(messages.map((m) => m.raw))).digest('hex');

describe('demo mail generator', () => {
  const messages = generateDemoMessages();
  const parsed = messages.map((m) => parseMessage(m.raw));

  it('gives the same bytes on every run (fixed seed) and a different set for another seed', () => {
    expect(messages).toHaveLength(DEMO_MESSAGE_COUNT);
    expect(digest(generateDemoMessages())).toBe(digest(messages));
    expect(digest(generateDemoMessages(DEMO_MESSAGE_COUNT, 7))).not.toBe(digest(messages));
  });

  it('writes well-formed messages: the archive parser finds no problems and decodes every subject', () => {
    for (const p of parsed) {
      expect(p.problems).toEqual([]);
      expect(p.fields.subject).not.toMatch(/=\?/);
      expect(p.fields.messageId).toMatch(/^<demo\.\d+\./);
    }
  });

  it('has threads, HTML, attachments, several scripts and folders', () => {
    const replies = parsed.filter((p) => p.fields.inReplyTo !== null);
    expect(replies.length).toBeGreaterThan(DEMO_MESSAGE_COUNT / 5);
    const ids = new Set(parsed.map((p) => p.fields.messageId));
    expect(replies.every((p) => ids.has(p.fields.inReplyTo))).toBe(true);
    expect(parsed.filter((p) => p.bodyStructure.includes('"html"')).length).toBeGreaterThan(50);
    expect(parsed.filter((p) => p.hasAttachments).length).toBeGreaterThan(30);
    expect(parsed.some((p) => p.attachments.some((a) => a.filename === 'Übersicht.pdf'))).toBe(true);
    const subjects = parsed.map((p) => p.fields.subject).join('\n');
    for (const script of [/[äöüß]/, /[éè]/, /[\u3040-\u30ff]/, /[\u0400-\u04ff]/, /[\u0370-\u03ff]/]) expect(subjects).toMatch(script);
    expect(new Set(messages.map((m) => m.folder))).toEqual(new Set(['Inbox', 'Sent', 'Projects/Apollo', 'Projects/Budget 2025', 'Newsletters']));
  });
});
