// wire/tls, wire/tls-extensions, wire/tls-model: codecs against bytes captured from curl 7.88.1
// (OpenSSL 3.0.19) talking to a Node 20 TLS server in two network namespaces on this machine
// (`curl --http1.1 https://foo.bar.com/`, tcpdump on the veth; see external-flows-facts §d).
import { describe, expect, it } from 'vitest';
import { WireError } from '../../src/wire/error.js';
import {
  TLS_RECORD_HEADER_LENGTH, TlsContentType, TlsExtensionType, TlsHandshakeType, clientHelloLength, decodeClientHello, decodeEncryptedExtensions,
  decodeServerHello, decodeTlsRecordHeader, encodeClientHello, encodeEncryptedExtensions, encodeServerHello, encodeTlsRecordHeader,
  encryptedExtensionsLength, encryptedRecordLength, serverHelloLength,
} from '../../src/wire/tls.js';
import { alpnExtension, openSslClientHello, readAlpn, readKeyShare, readSelectedVersion, readSni } from '../../src/wire/tls-extensions.js';
import {
  buildCertificate, buildCertificateVerify, buildFinished, buildNewSessionTicket, certificateMessageLength, handshakeTypes, modelTrafficKey, openRecord,
  sealRecordBytes,
} from '../../src/wire/tls-model.js';
import { garbage } from '../helpers/garbage.js';
import { hex, toHex } from '../helpers/vectors.js';

// The 517-byte TCP payload of curl's ClientHello: one record (version 0x0301, length 512); the
// padding extension (type 0x0015, length 181 = 0xb5) is the last 4 + 181 bytes, all zeros.
const CLIENT_HELLO = new Uint8Array([
  ...hex(
    '1603010200010001fc0303b7b5215468cd7684927bb2288495873d870a8962266463f0da6d1c0a3b0f33b52010a2f29095ca7beeff23e93210bcb0ea5a7721ed' +
      '9e3fd08da5b4a0fd93f341bd003e130213031301c02cc030009fcca9cca8ccaac02bc02f009ec024c028006bc023c0270067c00ac0140039c009c0130033009d' +
      '009c003d003c0035002f00ff0100017500000010000e00000b666f6f2e6261722e636f6d000b000403000102000a00160014001d0017001e0019001801000101' +
      '0102010301040010000b000908687474702f312e31001600000017000000310000000d002a0028040305030603080708080809080a080b080408050806040105' +
      '010601030303010302040205020602002b0009080304030303020301002d00020101003300260024001d00207c89cb735c1aae13bc8378400b7c0c264f188fda' +
      'edadc65e91b0623740e5204e001500b5',
  ),
  ...new Uint8Array(181),
]);
// The Node server's ServerHello record (127 bytes): session id echoed, TLS_AES_256_GCM_SHA384,
// supported_versions 0x0304, key_share x25519.
const SERVER_HELLO = hex(
  '160303007a0200007603031f00c3162e633f1dcfd17e927a202777945550a9d01fc0e3bb6939ef6c8797c42010a2f29095ca7beeff23e93210bcb0ea5a7721ed' +
    '9e3fd08da5b4a0fd93f341bd130200002e002b0002030400330024001d0020a608ed620f3eaefbf703aaa4be4f8112663954d8b92725f1200f986e91c9d06e',
);

describe('TLS record header', () => {
  it('decode', () => {
    expect(decodeTlsRecordHeader(CLIENT_HELLO, 0)).toEqual({ hdr: { type: 22, version: 0x0301, length: 512 }, bytesRead: 5 });
    expect(decodeTlsRecordHeader(SERVER_HELLO, 0).hdr).toEqual({ type: 22, version: 0x0303, length: 122 });
  });
  it('encode (into garbage at an offset)', () => {
    const b = garbage(9);
    expect(encodeTlsRecordHeader({ type: 23, version: 0x0303, length: 69 }, b, 2)).toBe(5);
    expect(toHex(b)).toBe('a5a51703030045a5a5');
  });
  it('rejects truncated input, content type 99, a major version other than 3 and a length over 2^14 + 256', () => {
    expect(() => decodeTlsRecordHeader(CLIENT_HELLO.subarray(0, 4), 0)).toThrow(WireError);
    expect(() => decodeTlsRecordHeader(hex('6303030001'), 0)).toThrow(/content type 99/);
    expect(() => decodeTlsRecordHeader(hex('1604030001'), 0)).toThrow(/version/);
    expect(() => decodeTlsRecordHeader(hex('1703035000'), 0)).toThrow(/exceeds/);
  });
  it('encrypted record length = plaintext + 1 + 16 (the sizes tshark showed)', () => {
    expect([21, 1602, 264, 52, 265, 2].map(encryptedRecordLength)).toEqual([38, 1619, 281, 69, 282, 19]);
  });
});

describe('ClientHello', () => {
  it('decode: curl/OpenSSL fields and extensions in order', () => {
    const { hello, bytesRead } = decodeClientHello(CLIENT_HELLO, TLS_RECORD_HEADER_LENGTH);
    expect(bytesRead).toBe(512);
    expect(hello.legacyVersion).toBe(0x0303);
    expect(hello.sessionId.length).toBe(32);
    expect(hello.cipherSuites.length).toBe(31);
    expect(hello.extensions.map((e) => e.type)).toEqual([0, 11, 10, 16, 22, 23, 49, 13, 43, 45, 51, 21]);
    expect(readSni(hello.extensions)).toBe('foo.bar.com');
    expect(readAlpn(hello.extensions)).toEqual(['http/1.1']);
    expect(readKeyShare(hello.extensions, 'client')!.length).toBe(32);
    expect(hello.extensions.at(-1)!.data.length).toBe(181);
  });
  it('round trip: decode → encode gives the captured bytes', () => {
    const { hello } = decodeClientHello(CLIENT_HELLO, 5);
    const b = garbage(600);
    expect(encodeClientHello(hello, b, 7)).toBe(512);
    expect(toHex(b.subarray(7, 519))).toBe(toHex(CLIENT_HELLO.subarray(5)));
    expect(clientHelloLength(hello)).toBe(512);
  });
  it('openSslClientHello rebuilds the captured hello byte for byte from its random, session id and key', () => {
    const { hello } = decodeClientHello(CLIENT_HELLO, 5);
    const built = openSslClientHello({ random: hello.random, sessionId: hello.sessionId, keyShare: readKeyShare(hello.extensions, 'client')!, serverName: 'foo.bar.com', alpn: ['http/1.1'] });
    const b = new Uint8Array(clientHelloLength(built));
    encodeClientHello(built, b, 0);
    expect(toHex(b)).toBe(toHex(CLIENT_HELLO.subarray(5)));
  });
  it('padding as OpenSSL: to 512 bytes for 256..511-byte hellos (517 B on TCP with ALPN h2,http/1.1 too), none for longer', () => {
    const base = { random: new Uint8Array(32), sessionId: new Uint8Array(32), keyShare: new Uint8Array(32) };
    for (const alpn of [['http/1.1'], ['h2', 'http/1.1'], []]) expect(clientHelloLength(openSslClientHello({ ...base, serverName: 'foo.bar.com', alpn }))).toBe(512);
    const long = openSslClientHello({ ...base, serverName: `${'a'.repeat(200)}.example.com`, alpn: ['http/1.1'] });
    expect(long.extensions.some((e) => e.type === TlsExtensionType.PADDING)).toBe(false);
    expect(clientHelloLength(long)).toBeGreaterThan(512);
    // 508..511 bytes before padding: the extension is 4 + 1 bytes (OpenSSL's minimum of one byte).
    const near = openSslClientHello({ ...base, serverName: `${'b'.repeat(188)}.com`, alpn: ['http/1.1'] });
    expect(near.extensions.at(-1)!.data.length).toBe(1);
    const noSni = openSslClientHello({ ...base, serverName: null, alpn: ['http/1.1'] });
    expect(readSni(noSni.extensions)).toBe(null);
  });
  it('rejects truncated input and inconsistent lengths', () => {
    expect(() => decodeClientHello(CLIENT_HELLO.subarray(0, 300), 5)).toThrow(WireError);
    const bad = CLIENT_HELLO.slice();
    bad[5 + 4 + 2 + 32 + 1 + 32 + 1] = 0x3f; // odd cipher suites length
    expect(() => decodeClientHello(bad, 5)).toThrow(/cipher suites/);
    const ext = CLIENT_HELLO.slice();
    ext[5 + 4 + 2 + 32 + 1 + 32 + 2 + 62 + 2 + 1]! += 7; // extensions length +7 (tshark: "Vector length ... too large")
    expect(() => decodeClientHello(ext, 5)).toThrow(/extensions length/);
  });
});

describe('ServerHello', () => {
  it('decode', () => {
    const { hello, bytesRead } = decodeServerHello(SERVER_HELLO, 5);
    expect(bytesRead).toBe(122);
    expect(hello.cipherSuite).toBe(0x1302);
    expect(readSelectedVersion(hello.extensions)).toBe(0x0304);
    expect(readKeyShare(hello.extensions, 'server')!.length).toBe(32);
    expect(toHex(hello.sessionId)).toBe(toHex(decodeClientHello(CLIENT_HELLO, 5).hello.sessionId));
  });
  it('encode / round trip (into garbage at an offset)', () => {
    const { hello } = decodeServerHello(SERVER_HELLO, 5);
    const b = garbage(140);
    expect(encodeServerHello(hello, b, 3)).toBe(122);
    expect(serverHelloLength(hello)).toBe(122);
    expect(toHex(b.subarray(3, 125))).toBe(toHex(SERVER_HELLO.subarray(5)));
  });
  it('rejects truncated input and a wrong handshake type', () => {
    expect(() => decodeServerHello(SERVER_HELLO.subarray(0, 100), 5)).toThrow(WireError);
    expect(() => decodeServerHello(CLIENT_HELLO, 5)).toThrow(/expected 2/);
  });
});

describe('encrypted handshake messages (sizes measured in §d and on this machine)', () => {
  const words = { n: 0, uint32() { return (this.n = (Math.imul(this.n, 1103515245) + 12345) >>> 0); } };
  it('EncryptedExtensions with ALPN http/1.1 is 21 bytes (record 38); round trip', () => {
    const ext = [alpnExtension(['http/1.1'])];
    const b = garbage(30);
    expect(encodeEncryptedExtensions(ext, b, 2)).toBe(21);
    expect(encryptedExtensionsLength(ext)).toBe(21);
    const d = decodeEncryptedExtensions(b, 2);
    expect(d.bytesRead).toBe(21);
    expect(readAlpn(d.extensions)).toEqual(['http/1.1']);
  });
  it('Certificate = 4 + 1 + 3 + Σ(3 + DER + 2): 899 + 904 → 1821 (record 1838); 798 + 786 → 1602 (record 1619, measured here)', () => {
    expect(certificateMessageLength([899, 904])).toBe(1821);
    expect(encryptedRecordLength(certificateMessageLength([899, 904]))).toBe(1838);
    expect(encryptedRecordLength(certificateMessageLength([798, 786]))).toBe(1619);
    expect(encryptedRecordLength(certificateMessageLength([501, 506]))).toBe(1042);
    expect(encryptedRecordLength(certificateMessageLength([953]))).toBe(983);
    const c = buildCertificate([899, 904], words);
    expect(c.length).toBe(1821);
    expect(handshakeTypes(c)).toEqual([TlsHandshakeType.CERTIFICATE]);
  });
  it('CertificateVerify (RSA-PSS 256 → record 281; ECDSA 71 → 96), Finished SHA-384 → 69, NewSessionTicket → 282', () => {
    expect(encryptedRecordLength(buildCertificateVerify(0x0804, 256, words).length)).toBe(281);
    expect(encryptedRecordLength(buildCertificateVerify(0x0403, 71, words).length)).toBe(96);
    expect(encryptedRecordLength(buildFinished(48, words).length)).toBe(69);
    const t = buildNewSessionTicket(1, words);
    expect(encryptedRecordLength(t.length)).toBe(282);
    expect(toHex(t.subarray(12, 21))).toBe('080000000000000001'); // nonce length 8, nonce = counter
  });
  it('the record protection stand-in: seal → open gives the plaintext and type back; a flipped byte fails the tag', () => {
    const key = modelTrafficKey(new Uint8Array(32).fill(1), new Uint8Array(32).fill(2), 0, 'application');
    const plain = new TextEncoder().encode('GET / HTTP/1.1\r\n\r\n');
    const rec = sealRecordBytes(TlsContentType.APPLICATION_DATA, plain, key, 3);
    expect(decodeTlsRecordHeader(rec, 0).hdr).toEqual({ type: 23, version: 0x0303, length: plain.length + 17 });
    expect(toHex(rec.subarray(5, 5 + plain.length))).not.toBe(toHex(plain));
    const copy = rec.slice();
    expect(openRecord(copy, 5, copy.length - 5, key, 3)).toEqual({ type: 23, length: plain.length });
    expect(toHex(copy.subarray(5, 5 + plain.length))).toBe(toHex(plain));
    expect(openRecord(rec.slice(), 5, rec.length - 5, key, 4)).toBe(null);
    const flipped = rec.slice();
    flipped[9]! ^= 1;
    expect(openRecord(flipped, 5, flipped.length - 5, key, 3)).toBe(null);
  });
});
