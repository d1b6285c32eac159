/**
 * The console's QR encoder against known answers: matrices made by python-qrcode 8.2 (byte mode,
 * level M, mask 3, no border), kept as SHA-256 of rows of 0/1 joined by '/'. The texts cover a
 * version without alignment patterns (1), the first with version information (7), the first with
 * a 16-bit count (10) and a larger one (13).
 */
import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { encodeQr, qrCodeSvg } from '../src/management/console/views/qr-code.js';

const URI = 'otpauth://totp/Coffer:admin?secret=ABCDEFGHIJKLMNOPQRSTUVWXYZ234567&period=30&digits=6&algorithm=SHA1&issuer=Coffer&x=';
const TEXT = `hello world${URI.repeat(3)}`;

const KNOWN = [
  { length: 14, version: 1, sha256: 'a14ffa7ad4888f4bfb63b345f63155cf8e4435668d66dd7fcffe0c54cd505040' },
  { length: 110, version: 7, sha256: 'c75a0f3b43b9cdc270fe51eaf9728acfa0791026726b3dd9c82b5c861bc32279' },
  { length: 200, version: 10, sha256: '5e2875737784482f867c056425c00a70e5ef55ca0afa4acd6d5819ed91b1e3bc' },
  { length: 300, version: 13, sha256: '2f6209e4bd3e05bada6952b838d2ff75dd14feb2daf41974d3470e796235f1aa' },
];

function digest(modules: readonly (readonly boolean[])[]): string {
  return createHash('sha256').update(modules.map((row) => row.map((isDark) => (isDark ? '1' : '0')).join('')).join('/')).digest('hex');
}

describe('QR code of the MFA enrolment', () => {
  for (const known of KNOWN) {
    it(`encodes ${known.length} bytes as version ${known.version}-M exactly as python-qrcode does`, () => {
      const symbol = encodeQr(TEXT.slice(0, known.length), 3);
      expect(symbol.version).toBe(known.version);
      expect(symbol.size).toBe(known.version * 4 + 17);
      expect(digest(symbol.modules)).toBe(known.sha256);
    });
  }

  it('takes 2331 bytes (version 40-M, the largest) and refuses one more', () => {
    expect(encodeQr('a'.repeat(2331), 0).version).toBe(40);
    expect(() => encodeQr('a'.repeat(2332), 0)).toThrow(RangeError);
  });

  it('draws an SVG with a quiet zone of four modules and an accessible label', () => {
    const svg = qrCodeSvg(URI, 'QR code of the MFA secret').value;
    const size = encodeQr(URI).size;
    expect(svg).toContain(`viewBox="0 0 ${size + 8} ${size + 8}"`);
    expect(svg).toContain('role="img" aria-label="QR code of the MFA secret"');
    expect(svg).toMatch(/<path d="M4 4h1v1h-1z/); // the finder pattern's corner, inside the quiet zone
  });
});
