import { X509Certificate, createPrivateKey, createPublicKey, sign, verify } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { generateClusterPki } from '../../harness/pki.js';

describe('generateClusterPki', () => {
  it('issues a serving certificate for loopback and an admin client in system:masters, both signed by the CA', async () => {
    const now = new Date('2026-01-01T00:00:00Z');
    const pki = await generateClusterPki(now);
    const ca = new X509Certificate(pki.ca.certPem);
    const serving = new X509Certificate(pki.apiserver.certPem);
    const admin = new X509Certificate(pki.admin.certPem);

    expect(ca.ca).toBe(true);
    expect(serving.verify(ca.publicKey)).toBe(true);
    expect(admin.verify(ca.publicKey)).toBe(true);
    expect(serving.checkIP('127.0.0.1')).toBe('127.0.0.1');
    expect(serving.checkHost('localhost')).toBe('localhost');
    expect(admin.subject).toContain('O=system:masters');
    expect(new Date(serving.validTo).getTime() - now.getTime()).toBeLessThanOrEqual(24 * 3600_000);
    // The private keys belong to their certificates.
    expect(serving.checkPrivateKey(createPrivateKey(pki.apiserver.keyPem))).toBe(true);
    expect(admin.checkPrivateKey(createPrivateKey(pki.admin.keyPem))).toBe(true);
  });

  it('produces a service-account key pair whose public half verifies its signatures', async () => {
    const pki = await generateClusterPki();
    const data = Buffer.from('token');
    const signature = sign('sha256', data, createPrivateKey(pki.serviceAccountKeyPem));
    expect(verify('sha256', data, createPublicKey(pki.serviceAccountPubPem), signature)).toBe(true);
  });
});
