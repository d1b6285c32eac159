/**
 * Role certificates (DESIGN.md §1): each role has its own key pair and self-signed certificate,
 * generated on first start; peers pin each other by SHA-1 thumbprint (40 hex digits, as SPE shows).
 * Keys come from node:crypto (native, fast); node-forge only builds the X.509 certificate.
 */
import { generateKeyPairSync, X509Certificate, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync, renameSync, chmodSync } from 'node:fs';
import path from 'node:path';
import forge from 'node-forge';

export interface RoleCertificate {
  readonly keyPem: string;
  readonly certPem: string;
  /** SHA-1 of the DER certificate, 40 upper-case hex digits. */
  readonly thumbprint: string;
}

export function thumbprintOf(certPem: string | Buffer): string {
  return new X509Certificate(certPem).fingerprint.replace(/:/g, '').toUpperCase();
}

/** Accepts `AB:CD…`, `ab cd …` or plain hex; returns 40 upper-case hex digits or null. */
export function normalizeThumbprint(input: string): string | null {
  const hex = input.replace(/[\s:]/g, '').toUpperCase();
  return /^[0-9A-F]{40}$/.test(hex) ? hex : null;
}

export function generateSelfSigned(commonName: string, altNames: string[] = ['localhost', '127.0.0.1']): RoleCertificate {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const keyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const pubPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const cert = forge.pki.createCertificate();
  cert.publicKey = forge.pki.publicKeyFromPem(pubPem);
  cert.serialNumber = '01' + randomBytes(15).toString('hex');
  const now = new Date();
  cert.validity.notBefore = new Date(now.getTime() - 24 * 3600_000);
  cert.validity.notAfter = new Date(now.getTime() + 10 * 365 * 24 * 3600_000);
  const attrs = [{ name: 'commonName', value: commonName }, { name: 'organizationName', value: 'Coffer' }];
  cert.setSubject(attrs);
  cert.setIssuer(attrs);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
    { name: 'extKeyUsage', serverAuth: true, clientAuth: true },
    {
      name: 'subjectAltName',
      altNames: altNames.map((n) => (/^[\d.]+$/.test(n) ? { type: 7, ip: n } : { type: 2, value: n })),
    },
  ]);
  cert.sign(forge.pki.privateKeyFromPem(keyPem), forge.md.sha256.create());
  const certPem = forge.pki.certificateToPem(cert);
  return { keyPem, certPem, thumbprint: thumbprintOf(certPem) };
}

function writePrivate(file: string, content: string): void {
  const tmp = `${file}.tmp-${process.pid}`;
  writeFileSync(tmp, content, { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
}

/**
 * Loads `<certDir>/<name>.{key,crt}.pem`, creating them on first use. Operators may replace
 * the files with their own PEM; callers that support reload call this again.
 */
export function loadOrCreateRoleCertificate(certDir: string, name: string, commonName = `coffer-${name}`): RoleCertificate {
  mkdirSync(certDir, { recursive: true, mode: 0o700 });
  const keyFile = path.join(certDir, `${name}.key.pem`);
  const certFile = path.join(certDir, `${name}.crt.pem`);
  if (existsSync(keyFile) && existsSync(certFile)) {
    const keyPem = readFileSync(keyFile, 'utf8');
    const certPem = readFileSync(certFile, 'utf8');
    return { keyPem, certPem, thumbprint: thumbprintOf(certPem) };
  }
  const made = generateSelfSigned(commonName);
  writePrivate(keyFile, made.keyPem);
  writePrivate(certFile, made.certPem);
  return made;
}
