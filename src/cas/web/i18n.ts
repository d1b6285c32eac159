/**
 * Translations: every visible string of Web Access goes through `t(key)`. The language comes from
 * the `lang` cookie (set by the switch) or else the browser's Accept-Language preference.
 */
import { en, type MessageKey } from './locales/en.js';
import { de } from './locales/de.js';

export type { MessageKey };
export type Locale = 'en' | 'de';
export const LOCALES: readonly Locale[] = ['en', 'de'];
const TABLES: Record<Locale, Record<MessageKey, string>> = { en, de };

export type Translate = (key: MessageKey, params?: Record<string, string | number>) => string;

export function translator(locale: Locale): Translate {
  const table = TABLES[locale];
  return (key, params) => {
    const s = table[key] ?? en[key];
    return params ? s.replace(/\{(\w+)\}/g, (m, k: string) => (k in params ? String(params[k]) : m)) : s;
  };
}

export function isLocale(v: unknown): v is Locale { return typeof v === 'string' && (LOCALES as readonly string[]).includes(v); }

/** RFC 9110 §12.5.4: the highest-weighted language we have; English otherwise. */
export function pickLocale(cookie: string | undefined, acceptLanguage: string | undefined): Locale {
  if (isLocale(cookie)) return cookie;
  if (!acceptLanguage) return 'en';
  const prefs = acceptLanguage.split(',').slice(0, 20).map((p, i) => {
    const [tag, ...rest] = p.trim().split(';');
    const q = rest.map((r) => /^\s*q=([\d.]+)/.exec(r)?.[1]).find(Boolean);
    return { lang: (tag ?? '').toLowerCase().split('-')[0]!, q: q === undefined ? 1 : Number(q), i };
  }).filter((p) => p.q > 0).sort((a, b) => b.q - a.q || a.i - b.i);
  for (const p of prefs) if (isLocale(p.lang)) return p.lang;
  return 'en';
}

export function translationTables(): Record<Locale, Record<string, string>> { return TABLES; }
