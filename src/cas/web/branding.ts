/**
 * Provider-wide branding (DESIGN.md §3, §4): `data/config/branding/` holds `branding.json`, a logo
 * and a favicon (PNG), the landing `index.html` and `about.html`. `reload()` reads and checks the
 * whole folder before switching, so a broken folder is refused with a clear error and the branding
 * in use stays; new page loads (and new IMAP connections, through `current`) see a good reload at once.
 */
import { cpSync, existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import type { Logger } from '../../common/logger.js';
import { LOCALES, type Locale } from './i18n.js';

/** Limits, each with its reason. */
export const BRANDING_LIMITS = {
  /** branding.json is a small settings file; anything bigger is a mistake. */
  maxJsonBytes: 64 * 1024,
  /** The landing and about pages are static text, sent on every visit. */
  maxPageBytes: 256 * 1024,
  /** The logo is sent on every page of Web Access; keep it light. */
  maxLogoBytes: 512 * 1024,
  /** Shown at most 400×120 CSS px in the header (2× for high-density screens). */
  logoMinPx: { width: 16, height: 16 },
  logoMaxPx: { width: 1200, height: 400 },
  maxFaviconBytes: 100 * 1024,
  /** Browsers use 16–512 px square icons. */
  faviconPx: { min: 16, max: 512 },
  maxTextChars: 2000,
  maxLinks: 10,
} as const;

export interface BrandingTexts { loginWelcome: string; footer: string }

export interface Branding {
  /** Increases with every successful load; part of asset URLs so browsers fetch new images. */
  readonly version: number;
  readonly productName: string;
  readonly colors: { readonly primary: string; readonly primaryText: string; readonly background: string; readonly text: string };
  readonly texts: Readonly<Record<Locale, BrandingTexts>>;
  readonly links: readonly { readonly label: string; readonly url: string }[];
  readonly supportEmail: string | null;
  readonly logo: { readonly bytes: Buffer; readonly width: number; readonly height: number };
  readonly favicon: { readonly bytes: Buffer; readonly width: number; readonly height: number };
  readonly indexHtml: string;
  readonly aboutHtml: string;
  /** CSS custom properties from the colours (validated hex), served as /branding/theme.css. */
  readonly themeCss: string;
}

export type ReloadResult = { ok: true; version: number } | { ok: false; error: string };

export class BrandingError extends Error {
  readonly code = 'BRANDING_INVALID';
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/** Width and height from a PNG's IHDR chunk (PNG spec §11.2.2), or null when it is not a PNG. */
export function pngSize(buf: Buffer): { width: number; height: number } | null {
  if (buf.length < 24 || !buf.subarray(0, 8).equals(PNG_SIGNATURE) || buf.toString('latin1', 12, 16) !== 'IHDR') return null;
  return { width: buf.readUInt32BE(16), height: buf.readUInt32BE(20) };
}

const HEX_COLOR = /^#[0-9a-fA-F]{6}$/;

function fail(msg: string): never { throw new BrandingError(msg); }

function readLimited(dir: string, name: string, max: number): Buffer {
  const file = path.join(dir, name);
  if (!existsSync(file)) fail(`${name} is missing`);
  const st = statSync(file);
  if (!st.isFile()) fail(`${name} is not a file`);
  if (st.size > max) fail(`${name} is ${st.size} bytes; at most ${max} are allowed`);
  return readFileSync(file);
}

function str(obj: Record<string, unknown>, key: string, where: string, required = true): string | null {
  const v = obj[key];
  if (v === undefined || v === null) { if (required) fail(`${where}${key} is required`); return null; }
  if (typeof v !== 'string') fail(`${where}${key} must be a string`);
  if (v.length > BRANDING_LIMITS.maxTextChars) fail(`${where}${key} is longer than ${BRANDING_LIMITS.maxTextChars} characters`);
  if (required && !v.trim()) fail(`${where}${key} must not be empty`);
  return v;
}

function fileName(v: string, key: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*\.png$/.test(v)) fail(`${key} must name a .png file in the branding folder (letters, digits, . _ -)`);
  return v;
}

function utf8Page(buf: Buffer, name: string): string {
  const s = new TextDecoder('utf-8', { fatal: false }).decode(buf);
  if (s.includes('\uFFFD')) fail(`${name} is not valid UTF-8`);
  return s;
}

/** Reads and checks a branding folder; throws BrandingError naming the first problem. */
export function loadBrandingFolder(dir: string, version: number): Branding {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) fail(`branding folder ${dir} does not exist`);
  const jsonBuf = readLimited(dir, 'branding.json', BRANDING_LIMITS.maxJsonBytes);
  let raw: unknown;
  try { raw = JSON.parse(jsonBuf.toString('utf8')); } catch (e) { fail(`branding.json is not valid JSON: ${(e as Error).message}`); }
  if (!raw || typeof raw !== 'object' || Array.isArray(raw)) fail('branding.json must contain a JSON object');
  const j = raw as Record<string, unknown>;
  const known = new Set(['productName', 'colors', 'texts', 'links', 'supportEmail', 'logo', 'favicon']);
  for (const k of Object.keys(j)) if (!known.has(k)) fail(`branding.json: unknown setting ${JSON.stringify(k)}`);
  const productName = str(j, 'productName', 'branding.json: ')!.trim();
  if (productName.length > 80 || /[\u0000-\u001f\u007f]/.test(productName)) fail('branding.json: productName must be one line of at most 80 characters');

  const c = j.colors;
  if (!c || typeof c !== 'object' || Array.isArray(c)) fail('branding.json: colors must be an object');
  const colors = {} as { primary: string; primaryText: string; background: string; text: string };
  for (const k of ['primary', 'primaryText', 'background', 'text'] as const) {
    const v = (c as Record<string, unknown>)[k];
    if (typeof v !== 'string' || !HEX_COLOR.test(v)) fail(`branding.json: colors.${k} must be a colour like "#1f5fa8"`);
    colors[k] = v;
  }

  const t = j.texts;
  if (!t || typeof t !== 'object' || Array.isArray(t)) fail('branding.json: texts must be an object with one entry per language (en, de)');
  const texts = {} as Record<Locale, BrandingTexts>;
  for (const loc of LOCALES) {
    const e = (t as Record<string, unknown>)[loc];
    if (!e || typeof e !== 'object') fail(`branding.json: texts.${loc} is required`);
    const o = e as Record<string, unknown>;
    texts[loc] = { loginWelcome: str(o, 'loginWelcome', `branding.json: texts.${loc}.`, false) ?? '', footer: str(o, 'footer', `branding.json: texts.${loc}.`, false) ?? '' };
  }

  const links: { label: string; url: string }[] = [];
  if (j.links !== undefined) {
    if (!Array.isArray(j.links) || j.links.length > BRANDING_LIMITS.maxLinks) fail(`branding.json: links must be a list of at most ${BRANDING_LIMITS.maxLinks} {label, url}`);
    for (const [i, l] of j.links.entries()) {
      if (!l || typeof l !== 'object') fail(`branding.json: links[${i}] must be an object`);
      const label = str(l as Record<string, unknown>, 'label', `branding.json: links[${i}].`)!;
      const url = str(l as Record<string, unknown>, 'url', `branding.json: links[${i}].`)!;
      // Only web links: a javascript: or data: URL in the footer would run in our origin.
      if (!/^https?:\/\/[^\s]+$/i.test(url)) fail(`branding.json: links[${i}].url must be an http(s) address`);
      links.push({ label, url });
    }
  }
  const supportEmail = str(j, 'supportEmail', 'branding.json: ', false);
  if (supportEmail !== null && !/^[^\s@<>"]+@[^\s@<>"]+$/.test(supportEmail)) fail('branding.json: supportEmail must be an e-mail address');

  const logoName = fileName(str(j, 'logo', 'branding.json: ')!, 'logo');
  const logoBytes = readLimited(dir, logoName, BRANDING_LIMITS.maxLogoBytes);
  const logoPx = pngSize(logoBytes) ?? fail(`${logoName} is not a PNG image`);
  const L = BRANDING_LIMITS;
  if (logoPx.width < L.logoMinPx.width || logoPx.height < L.logoMinPx.height || logoPx.width > L.logoMaxPx.width || logoPx.height > L.logoMaxPx.height) {
    fail(`${logoName} is ${logoPx.width}×${logoPx.height} px; the logo must be between ${L.logoMinPx.width}×${L.logoMinPx.height} and ${L.logoMaxPx.width}×${L.logoMaxPx.height} px`);
  }
  const favName = fileName(str(j, 'favicon', 'branding.json: ')!, 'favicon');
  const favBytes = readLimited(dir, favName, L.maxFaviconBytes);
  const favPx = pngSize(favBytes) ?? fail(`${favName} is not a PNG image`);
  if (favPx.width !== favPx.height || favPx.width < L.faviconPx.min || favPx.width > L.faviconPx.max) {
    fail(`${favName} is ${favPx.width}×${favPx.height} px; the favicon must be square, ${L.faviconPx.min} to ${L.faviconPx.max} px`);
  }
  const indexHtml = utf8Page(readLimited(dir, 'index.html', L.maxPageBytes), 'index.html');
  const aboutHtml = utf8Page(readLimited(dir, 'about.html', L.maxPageBytes), 'about.html');
  const themeCss = `:root{--brand:${colors.primary};--brand-text:${colors.primaryText};--bg:${colors.background};--fg:${colors.text}}\n`;
  return Object.freeze({
    version, productName, colors: Object.freeze(colors), texts: Object.freeze(texts), links: Object.freeze(links), supportEmail,
    logo: Object.freeze({ bytes: logoBytes, ...logoPx }), favicon: Object.freeze({ bytes: favBytes, ...favPx }), indexHtml, aboutHtml, themeCss,
  });
}

export interface BrandingStoreOptions {
  /** The branding folder in use: `<data>/config/branding`. */
  dir: string;
  /** Copied to `dir` on first start when `dir` does not exist (`branding.sample/` of the release). */
  sampleDir?: string;
  log: Logger;
}

/** Holds the branding in use; `reload()` swaps it only for a folder that passes every check. */
export class BrandingStore {
  private branding: Branding;
  private version = 1;

  constructor(private readonly opts: BrandingStoreOptions) {
    if (!existsSync(opts.dir)) {
      if (!opts.sampleDir || !existsSync(opts.sampleDir)) throw new BrandingError(`branding folder ${opts.dir} does not exist and there is no sample to copy`);
      cpSync(opts.sampleDir, opts.dir, { recursive: true });
      opts.log.info({ dir: opts.dir }, 'branding: copied the sample branding on first start');
    }
    // A broken folder at start-up stops the CAS with the reason (STYLE rule 11).
    this.branding = loadBrandingFolder(opts.dir, this.version);
  }

  get current(): Branding { return this.branding; }
  get productName(): string { return this.branding.productName; }

  reload(): ReloadResult {
    try {
      const next = loadBrandingFolder(this.opts.dir, this.version + 1);
      this.version++;
      this.branding = next;
      this.opts.log.info({ version: next.version, productName: next.productName }, 'branding reloaded');
      return { ok: true, version: next.version };
    } catch (e) {
      const error = e instanceof BrandingError ? e.message : `branding could not be read: ${(e as Error).message}`;
      this.opts.log.error({ error }, 'branding reload refused; the previous branding stays in use');
      return { ok: false, error };
    }
  }
}

/** The shipped sample folder, `branding.sample/` at the repository root (also from dist/). */
export function defaultSampleDir(): string {
  return path.resolve(path.dirname(new URL(import.meta.url).pathname), '../../../branding.sample');
}
