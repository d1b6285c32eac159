/**
 * Text of PDF attachments for the full-text index ("attachment contents" search), with Mozilla's
 * pdf.js (legacy build, which runs on Node 20 without a canvas). PDFs are hostile input: no eval,
 * no fonts loaded, bounded pages and characters; the caller runs this in a worker with a timeout.
 */
const MAX_PDF_BYTES = 32 * 1024 * 1024;
const MAX_PAGES = 200;
const MAX_CHARS = 1024 * 1024;

type PdfJs = typeof import('pdfjs-dist/legacy/build/pdf.mjs');
let pdfjs: Promise<PdfJs> | null = null;

/**
 * Whether the bytes hold an indirect object ("12 0 obj"). Every PDF page and the document catalog
 * are such objects, so a file without one has no text pdf.js could find; it would only spend
 * milliseconds per 100 KB scanning for objects to rebuild a cross-reference table (attachments
 * named .pdf that are not PDFs, truncated or mislabelled files).
 */
export function hasPdfObjects(data: Uint8Array): boolean {
  const buf = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  for (let at = buf.indexOf('obj'); at !== -1; at = buf.indexOf('obj', at + 3)) {
    let i = at - 1;
    if (!isPdfSpace(buf[i])) continue;
    while (i >= 0 && isPdfSpace(buf[i])) i--;
    if (i >= 0 && buf[i]! >= 0x30 && buf[i]! <= 0x39) return true;
  }
  return false;
}

/** PDF white-space characters (ISO 32000-1 §7.2.2). */
function isPdfSpace(c: number | undefined): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09 || c === 0x0c || c === 0x00;
}

export async function pdfText(data: Uint8Array): Promise<string> {
  if (data.length === 0 || data.length > MAX_PDF_BYTES || !hasPdfObjects(data)) return '';
  pdfjs ??= import('pdfjs-dist/legacy/build/pdf.mjs');
  const lib = await pdfjs;
  const task = lib.getDocument({ data: new Uint8Array(data), isEvalSupported: false, disableFontFace: true, useSystemFonts: false, stopAtErrors: false, verbosity: 0 });
  try {
    const doc = await task.promise;
    const out: string[] = [];
    let chars = 0;
    for (let i = 1; i <= Math.min(doc.numPages, MAX_PAGES) && chars < MAX_CHARS; i++) {
      const page = await doc.getPage(i);
      const content = await page.getTextContent();
      const text = content.items.map((it) => ('str' in it ? it.str + (it.hasEOL ? '\n' : ' ') : '')).join('');
      out.push(text);
      chars += text.length;
      page.cleanup();
    }
    return out.join('\n').slice(0, MAX_CHARS);
  } finally {
    await task.destroy();
  }
}
