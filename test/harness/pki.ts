// @peculiar/x509 resolves its ASN.1 classes through tsyringe, which needs the Reflect metadata API.
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

const ecdsa = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

/** A PEM certificate with its PEM (PKCS#8) private key. */
export interface KeyPair {
  certPem: string;
  keyPem: string;
}

/** Everything a throw-away control plane needs, generated fresh for each cluster. */
export interface ClusterPki {
  ca: KeyPair;
  apiserver: KeyPair;
  /** Client certificate in group system:masters, used by the admin kubeconfig and components. */
  admin: KeyPair;
  serviceAccountKeyPem: string;
  serviceAccountPubPem: string;
}

function pem(label: string, der: ArrayBuffer): string {
  const b64 = Buffer.from(der).toString('base64');
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

async function newKeys(): Promise<webcrypto.CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(ecdsa, true, [
    'sign',
    'verify',
  ])) as webcrypto.CryptoKeyPair;
}

async function privatePem(keys: webcrypto.CryptoKeyPair): Promise<string> {
  return pem('PRIVATE KEY', await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
}

let serial = 1;
function nextSerial(): string {
  serial += 1;
  return serial.toString(16).padStart(2, '0');
}

/**
 * Generates a CA, an API server serving certificate for loopback, an admin client
 * certificate and a service-account signing key. Certificates are valid for a day:
 * long enough for any test or demo, short enough that a leaked one is harmless.
 */
export async function generateClusterPki(now = new Date()): Promise<ClusterPki> {
  const notBefore = new Date(now.getTime() - 60_000);
  const notAfter = new Date(now.getTime() + 24 * 3600_000);
  const caKeys = await newKeys();
  const caCert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: nextSerial(),
    name: 'CN=weir-local-ca',
    notBefore,
    notAfter,
    keys: caKeys,
    signingAlgorithm: ecdsa,
    extensions: [
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign,
        true,
      ),
      await x509.SubjectKeyIdentifierExtension.create(caKeys.publicKey),
    ],
  });

  async function leaf(
    subject: string,
    usage: x509.ExtendedKeyUsage,
    names: x509.JsonGeneralName[] = [],
  ): Promise<KeyPair> {
    const keys = await newKeys();
    const extensions: x509.Extension[] = [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(
        x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment,
        true,
      ),
      new x509.ExtendedKeyUsageExtension([usage]),
      await x509.AuthorityKeyIdentifierExtension.create(caKeys.publicKey),
    ];
    if (names.length > 0) extensions.push(new x509.SubjectAlternativeNameExtension(names));
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: nextSerial(),
      subject,
      issuer: caCert.subject,
      notBefore,
      notAfter,
      publicKey: keys.publicKey,
      signingKey: caKeys.privateKey,
      signingAlgorithm: ecdsa,
      extensions,
    });
    return { certPem: cert.toString('pem') + '\n', keyPem: await privatePem(keys) };
  }

  const saKeys = await newKeys();
  return {
    ca: { certPem: caCert.toString('pem') + '\n', keyPem: await privatePem(caKeys) },
    apiserver: await leaf('CN=kube-apiserver', x509.ExtendedKeyUsage.serverAuth, [
      { type: 'ip', value: '127.0.0.1' },
      { type: 'dns', value: 'localhost' },
      { type: 'dns', value: 'kubernetes.default.svc' },
    ]),
    admin: await leaf('CN=weir-admin, O=system:masters', x509.ExtendedKeyUsage.clientAuth),
    serviceAccountKeyPem: await privatePem(saKeys),
    serviceAccountPubPem: pem(
      'PUBLIC KEY',
      await webcrypto.subtle.exportKey('spki', saKeys.publicKey),
    ),
  };
}
