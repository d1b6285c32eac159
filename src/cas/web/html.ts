/**
 * The only way Web Access builds HTML: a tagged template whose interpolations are escaped unless
 * they are already `SafeHtml` (produced by this module). Nothing else concatenates markup, so a
 * subject line, a folder name or a translation can never become markup by accident.
 */

export class SafeHtml {
  constructor(readonly value: string) {}
  toString(): string { return this.value; }
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;', '`': '&#96;' };

export function escapeHtml(s: string): string {
  return s.replace(/[&<>"'`]/g, (c) => ESCAPES[c]!);
}

export type HtmlValue = SafeHtml | string | number | boolean | null | undefined | readonly HtmlValue[];

function render(v: HtmlValue): string {
  if (v === null || v === undefined || v === false) return '';
  if (v instanceof SafeHtml) return v.value;
  if (Array.isArray(v)) return v.map(render).join('');
  return escapeHtml(String(v));
}

/** `html\`<p>${text}</p>\`` — every interpolation escaped (arrays joined, SafeHtml kept). */
export function html(strings: TemplateStringsArray, ...values: HtmlValue[]): SafeHtml {
  let out = strings[0]!;
  for (let i = 0; i < values.length; i++) out += render(values[i]!) + strings[i + 1]!;
  return new SafeHtml(out);
}

/**
 * Marks markup produced elsewhere as safe. Only for output of the HTML sanitiser and of the
 * provider's own branding pages, which are trusted by the operator; never for mail text.
 */
export function trusted(markup: string): SafeHtml { return new SafeHtml(markup); }
