// app/tls — a TLS 1.3 session over a TCP socket, modelled, not encrypted: the handshake flights with
// their real layouts and sizes (OpenSSL 3.0 client and server, TLS_AES_256_GCM_SHA384, x25519), the
// 1-RTT cost, record framing of application data (≤ 16 KiB plaintext per record), close_notify.
// Layer: app (imports core, wire, transport). RFC 8446 §2 (full handshake), §5 (record layer), §6.1.
//
//   client                                      server
//   ClientHello (record 0x0301)         ──►
//                                       ◄──     ServerHello, CCS, {EncryptedExtensions}, {Certificate},
//                                               {CertificateVerify}, {Finished}     (one write)
//   CCS, {Finished}                     ──►     (client is secure: application data may follow at once)
//                                       ◄──     {NewSessionTicket} ×2               (server is secure)
//   {application data} …                ◄─►     {application data} …
//   {close_notify}, FIN                 ──►
//
// Every record after ServerHello is a TLSCiphertext (type 23, version 0x0303, length = plaintext + 17);
// its bytes come from wire/tls-model's keystream, so a capture shows pseudo-random payloads of the
// right lengths and either end (or a terminating proxy) recovers the plaintext from the two randoms.
// Randomness (hello randoms, session id, key shares, signatures, tickets) comes from the Rng handed in.
//
// The API mirrors TcpSocket (onData, onEnd, onError, onClose or one `handler`, send, close, abort,
// state, isClosed) with `onSecureConnect` for onConnect, so HTTP code runs over either through
// `ByteStream`. The session is its TCP socket's handler (no closure per connection).
// Not modelled: real cryptography, HTTP/2 (ALPN offers and selects http/1.1 only), session resumption
// (tickets are sent and ignored), HelloRetryRequest, 0-RTT, client certificates, key update, the CPU time
// of signing and key exchange, TLS 1.2.
import type { Rng } from '../core/rng.js';
import type { TimeNs } from '../core/time.js';
import type { SocketErrorKind, StreamHandler } from '../transport/api.js';
import type { TcpListener, TcpLayer, TcpSocket, TcpSocketOptions, TcpState } from '../transport/tcp/index.js';
import { readU16 } from '../wire/bytes.js';
import {
  TLS_MAX_PLAINTEXT, TLS_RECORD_HEADER_LENGTH, TlsAlert, TlsCipherSuite, TlsContentType, TlsHandshakeType, TlsVersion, decodeClientHello,
  decodeEncryptedExtensions,
  decodeServerHello, encodeClientHello, encodeEncryptedExtensions, encodeServerHello, encryptedExtensionsLength, encryptedRecordLength,
  serverHelloLength, type TlsExtension,
} from '../wire/tls.js';
import {
  alpnExtension, keyShareExtension, openSslClientHello, readAlpn, readKeyShare, readSelectedVersion, readSni, supportedVersionsExtension,
} from '../wire/tls-extensions.js';
import {
  buildCertificate, buildCertificateVerify, buildFinished, buildNewSessionTicket, handshakeTypes, modelTrafficKey, openRecord, randomBytes,
  sealRecord, sealRecordBytes,
} from '../wire/tls-model.js';
import { FAKE_CERTIFICATE, signatureLength, signatureScheme, type TlsCertificateChain } from './tls-certs.js';

/** What an HTTP client or server needs from a connection: TcpSocket and TlsSocket both are one. */
export interface ByteStream {
  onData: ((data: Uint8Array | null, length: number) => void) | null;
  onEnd: (() => void) | null;
  onError: ((kind: SocketErrorKind) => void) | null;
  onClose: (() => void) | null;
  /** The application as one object instead of the closures (transport/api StreamHandler). */
  handler: StreamHandler | null;
  send(data: Uint8Array | number): void;
  close(): void;
  /** The application is done with the stream (close(), and it is not told when TIME_WAIT ends: TcpSocket.orphan). */
  orphan(): void;
  abort(): void;
  isClosed(): boolean;
  readonly state: TcpState;
}

/** Hash length of TLS_AES_256_GCM_SHA384 (Finished verify_data). */
const SHA384_LENGTH = 48;
const CCS_RECORD = Uint8Array.of(TlsContentType.CHANGE_CIPHER_SPEC, 0x03, 0x03, 0x00, 0x01, 0x01);
const CLOSE_NOTIFY = Uint8Array.of(1, TlsAlert.CLOSE_NOTIFY);

/** A server's TLS configuration, shared by its connections (certificate bytes are made once per chain). */
export class TlsServerContext {
  private readonly certMessages = new Map<TlsCertificateChain, Uint8Array>();
  constructor(
    readonly rng: Rng,
    /** Picks the chain for a ClientHello's server name (null: no SNI). */
    readonly selectCertificate: (sni: string | null) => TlsCertificateChain = () => FAKE_CERTIFICATE,
    /** ALPN protocols the server accepts, in preference order. */
    readonly alpn: readonly string[] = ['http/1.1'],
  ) {}

  /** The Certificate message of `chain` (same bytes on every connection, as a real server's). */
  certificateMessage(chain: TlsCertificateChain): Uint8Array {
    let m = this.certMessages.get(chain);
    if (!m) this.certMessages.set(chain, (m = buildCertificate(chain.derSizes, this.rng)));
    return m;
  }
}

/** Client settings of one connection. */
export interface TlsClientOptions {
  rng: Rng;
  /** SNI; null sends none (connecting to an address). */
  serverName: string | null;
  /** ALPN offer (default ["http/1.1"]). */
  alpn?: readonly string[];
}

type Phase = 'wait-connect' | 'wait-client-hello' | 'wait-server-hello' | 'wait-server-flight' | 'wait-client-finished' | 'connected' | 'failed';

/** Counters of one TLS endpoint role, for tests and inspect. */
export interface TlsCounters {
  handshakes: number;
  failures: number;
  recordsIn: number;
  recordsOut: number;
}

/** One end of a TLS 1.3 connection over `tcp`. */
export class TlsSocket implements ByteStream, StreamHandler {
  /** The handshake completed (client: its Finished is sent; server: the client's Finished arrived). */
  onSecureConnect: ((s: TlsSocket) => void) | null = null;
  onData: ((data: Uint8Array | null, length: number) => void) | null = null;
  onEnd: (() => void) | null = null;
  onError: ((kind: SocketErrorKind) => void) | null = null;
  onClose: (() => void) | null = null;
  /** The application as one object (then the closures above are not called; streamConnected for onSecureConnect). */
  handler: StreamHandler | null = null;
  /** Why the handshake or a record failed (a TLS alert name), else null. */
  failure: string | null = null;
  /** The peer's first record header (5 bytes, Latin-1) when it did not look like TLS at all, else null. */
  badFirstRecord: string | null = null;
  /** SNI the client sent (server side: as received). */
  serverName: string | null;
  /** The ALPN protocol agreed, or null. */
  alpnProtocol: string | null = null;
  /** The chain the server sent. */
  certificate: TlsCertificateChain | null = null;
  /** When the handshake completed (sim time), −1 before. */
  secureAt: TimeNs = -1;
  /** Whether the peer sent close_notify. */
  peerClosed = false;
  readonly counters: TlsCounters = { handshakes: 0, failures: 0, recordsIn: 0, recordsOut: 0 };

  private phase: Phase;
  private rx: Uint8Array = new Uint8Array(8192);
  private rxLen = 0;
  private clientRandom: Uint8Array = new Uint8Array(32);
  private serverRandom: Uint8Array = new Uint8Array(32);
  private sessionId: Uint8Array = new Uint8Array(0);
  private readKey = 0;
  private readSeq = 0;
  private writeKey = 0;
  private writeSeq = 0;
  private flightSeen = 0;
  private pending: Uint8Array[] = [];
  private closeSent = false;
  private readonly alpnOffer: readonly string[];

  private constructor(
    readonly tcp: TcpSocket,
    readonly role: 'client' | 'server',
    private readonly rng: Rng,
    private readonly ctx: TlsServerContext | null,
    serverName: string | null,
    alpn: readonly string[],
  ) {
    this.serverName = serverName;
    this.alpnOffer = alpn;
    this.phase = role === 'client' ? 'wait-connect' : 'wait-client-hello';
    tcp.handler = this;
  }

  // --- the TCP socket's handler (StreamHandler) ---
  /** @internal TCP is connected: a client starts its handshake. */
  streamConnected(): void {
    if (this.role === 'client') this.sendClientHello();
  }
  /** @internal */
  streamData(data: Uint8Array | null, length: number): void {
    this.receive(data, length);
  }
  /** @internal */
  streamEnd(): void {
    const h = this.handler;
    if (h !== null) h.streamEnd();
    else this.onEnd?.();
  }
  /** @internal */
  streamError(kind: SocketErrorKind): void {
    this.tellError(kind);
  }
  /** @internal */
  streamClosed(): void {
    const h = this.handler;
    if (h !== null) h.streamClosed();
    else this.onClose?.();
  }

  private tellError(kind: SocketErrorKind): void {
    const h = this.handler;
    if (h !== null) h.streamError(kind);
    else this.onError?.(kind);
  }

  /** Starts a client session on a TCP socket being connected (or connected). */
  static connect(tcp: TcpSocket, opts: TlsClientOptions): TlsSocket {
    const s = new TlsSocket(tcp, 'client', opts.rng, null, opts.serverName, opts.alpn ?? ['http/1.1']);
    if (tcp.state === 'ESTABLISHED') s.sendClientHello();
    return s;
  }

  /** Starts a server session on an accepted TCP socket. */
  static accept(tcp: TcpSocket, ctx: TlsServerContext): TlsSocket {
    return new TlsSocket(tcp, 'server', ctx.rng, ctx, null, ctx.alpn);
  }

  get state(): TcpState {
    return this.tcp.state;
  }

  /** True once the handshake completed and the session has not failed. */
  get secure(): boolean {
    return this.phase === 'connected';
  }

  isClosed(): boolean {
    return this.tcp.isClosed();
  }

  /** Sends application data (a length sends that many zero bytes), in records of ≤ 16 KiB plaintext. */
  send(data: Uint8Array | number): void {
    const plain = typeof data === 'number' ? new Uint8Array(Math.max(0, data)) : data;
    if (plain.length === 0 || this.closeSent || this.phase === 'failed') return;
    if (this.phase !== 'connected') {
      this.pending.push(plain);
      return;
    }
    this.tcp.send(this.seal(TlsContentType.APPLICATION_DATA, plain));
  }

  /** Sends close_notify (once the session is up), then closes the TCP connection (FIN). */
  close(): void {
    if (this.phase === 'connected' && !this.closeSent && !this.tcp.isClosed() && this.canWrite()) {
      this.tcp.send(this.seal(TlsContentType.ALERT, CLOSE_NOTIFY));
    }
    this.closeSent = true;
    this.tcp.close();
  }

  /** The application is done with this session (after close()): its TCP socket is orphaned. */
  orphan(): void {
    this.close();
    this.tcp.orphan();
  }

  /** Resets the TCP connection. */
  abort(): void {
    this.closeSent = true;
    this.tcp.abort();
  }

  private failed(): boolean {
    return this.phase === 'failed';
  }

  private canWrite(): boolean {
    const st = this.tcp.state;
    return st === 'ESTABLISHED' || st === 'CLOSE_WAIT';
  }

  /** Application data in records of ≤ 2^14 plaintext, sealed into one buffer. */
  private seal(type: number, plain: Uint8Array): Uint8Array {
    const n = plain.length;
    const records = Math.max(1, Math.ceil(n / TLS_MAX_PLAINTEXT));
    const out = new Uint8Array(n + records * (TLS_RECORD_HEADER_LENGTH + encryptedRecordLength(0)));
    let off = 0;
    for (let start = 0; start < n || off === 0; start += TLS_MAX_PLAINTEXT) {
      off += sealRecord(type, plain, start, Math.min(n, start + TLS_MAX_PLAINTEXT), this.writeKey, this.writeSeq++, out, off);
      this.counters.recordsOut++;
    }
    return out;
  }

  // --- client flights ---

  private sendClientHello(): void {
    if (this.phase !== 'wait-connect') return;
    this.clientRandom = randomBytes(this.rng, 32);
    this.sessionId = randomBytes(this.rng, 32);
    const hello = openSslClientHello({ random: this.clientRandom, sessionId: this.sessionId, keyShare: randomBytes(this.rng, 32), serverName: this.serverName, alpn: this.alpnOffer });
    const body = new Uint8Array(2048);
    const len = encodeClientHello(hello, body, TLS_RECORD_HEADER_LENGTH);
    body[0] = TlsContentType.HANDSHAKE;
    body[1] = 0x03;
    body[2] = 0x01; // OpenSSL's first record: legacy_record_version 0x0301 (RFC 8446 §5.1 allows it)
    body[3] = len >>> 8;
    body[4] = len & 0xff;
    this.phase = 'wait-server-hello';
    this.counters.recordsOut++;
    this.tcp.send(body.slice(0, TLS_RECORD_HEADER_LENGTH + len));
  }

  private sendClientFinished(): void {
    const fin = sealRecordBytes(TlsContentType.HANDSHAKE, buildFinished(SHA384_LENGTH, this.rng), this.writeKey, this.writeSeq++);
    const out = new Uint8Array(CCS_RECORD.length + fin.length);
    out.set(CCS_RECORD, 0);
    out.set(fin, CCS_RECORD.length);
    this.counters.recordsOut += 2;
    this.tcp.send(out);
    this.enterApplicationEpoch();
  }

  // --- server flights ---

  private serverFlight(ch: Uint8Array, off: number): void {
    const ctx = this.ctx!;
    const { hello } = decodeClientHello(ch, off);
    if (hello.cipherSuites.indexOf(TlsCipherSuite.AES_256_GCM_SHA384) < 0 || readKeyShare(hello.extensions, 'client') === null) {
      return this.fail('handshake_failure', TlsAlert.HANDSHAKE_FAILURE);
    }
    this.serverName = readSni(hello.extensions);
    const offered = readAlpn(hello.extensions);
    if (offered.length > 0) {
      this.alpnProtocol = ctx.alpn.find((p) => offered.includes(p)) ?? null;
      if (this.alpnProtocol === null) return this.fail('no_application_protocol', TlsAlert.NO_APPLICATION_PROTOCOL);
    }
    const chain = ctx.selectCertificate(this.serverName);
    this.certificate = chain;
    this.clientRandom = hello.random;
    this.serverRandom = randomBytes(this.rng, 32);
    const sh = {
      legacyVersion: TlsVersion.TLS12, random: this.serverRandom, sessionId: hello.sessionId, cipherSuite: TlsCipherSuite.AES_256_GCM_SHA384, compressionMethod: 0,
      extensions: [supportedVersionsExtension([TlsVersion.TLS13], 'server'), keyShareExtension(randomBytes(this.rng, 32), 'server')],
    };
    const shLen = serverHelloLength(sh);
    const shRec = new Uint8Array(TLS_RECORD_HEADER_LENGTH + shLen);
    shRec.set([TlsContentType.HANDSHAKE, 0x03, 0x03, shLen >>> 8, shLen & 0xff]);
    encodeServerHello(sh, shRec, TLS_RECORD_HEADER_LENGTH);
    this.readKey = modelTrafficKey(this.clientRandom, this.serverRandom, 0, 'handshake');
    this.writeKey = modelTrafficKey(this.clientRandom, this.serverRandom, 1, 'handshake');
    const ext: TlsExtension[] = this.alpnProtocol !== null ? [alpnExtension([this.alpnProtocol])] : [];
    const ee = new Uint8Array(encryptedExtensionsLength(ext));
    encodeEncryptedExtensions(ext, ee, 0);
    const sigLen = signatureLength(chain.key, () => this.rng.next());
    const parts = [
      shRec,
      CCS_RECORD,
      sealRecordBytes(TlsContentType.HANDSHAKE, ee, this.writeKey, this.writeSeq++),
      sealRecordBytes(TlsContentType.HANDSHAKE, ctx.certificateMessage(chain), this.writeKey, this.writeSeq++),
      sealRecordBytes(TlsContentType.HANDSHAKE, buildCertificateVerify(signatureScheme(chain.key), sigLen, this.rng), this.writeKey, this.writeSeq++),
      sealRecordBytes(TlsContentType.HANDSHAKE, buildFinished(SHA384_LENGTH, this.rng), this.writeKey, this.writeSeq++),
    ];
    this.counters.recordsOut += parts.length;
    this.phase = 'wait-client-finished';
    this.tcp.send(concat(parts));
  }

  private sendTickets(): void {
    const t1 = sealRecordBytes(TlsContentType.HANDSHAKE, buildNewSessionTicket(0, this.rng), this.writeKey, this.writeSeq++);
    const t2 = sealRecordBytes(TlsContentType.HANDSHAKE, buildNewSessionTicket(1, this.rng), this.writeKey, this.writeSeq++);
    this.counters.recordsOut += 2;
    this.tcp.send(concat([t1, t2]));
  }

  private enterApplicationEpoch(): void {
    const dirOut = this.role === 'client' ? 0 : 1;
    this.writeKey = modelTrafficKey(this.clientRandom, this.serverRandom, dirOut, 'application');
    this.writeSeq = 0;
    if (this.role === 'client') {
      this.readKey = modelTrafficKey(this.clientRandom, this.serverRandom, 1, 'application');
      this.readSeq = 0;
    }
  }

  private handshakeDone(): void {
    this.phase = 'connected';
    this.secureAt = this.tcp.sim.now;
    this.counters.handshakes++;
    if (this.handler !== null) this.handler.streamConnected();
    else this.onSecureConnect?.(this);
    const q = this.pending;
    this.pending = [];
    for (const p of q) this.send(p);
  }

  // --- receive ---

  private receive(data: Uint8Array | null, length: number): void {
    if (this.phase === 'failed') return;
    if (this.rxLen + length > this.rx.length) {
      const grown = new Uint8Array(Math.max(this.rx.length * 2, this.rxLen + length));
      grown.set(this.rx.subarray(0, this.rxLen));
      this.rx = grown;
    }
    if (data === null) this.rx.fill(0, this.rxLen, this.rxLen + length);
    else this.rx.set(data.subarray(0, length), this.rxLen);
    this.rxLen += length;
    let p = 0;
    while (this.rxLen - p >= TLS_RECORD_HEADER_LENGTH && !this.failed()) {
      const type = this.rx[p]!;
      const len = readU16(this.rx, p + 3);
      if (this.phase === 'wait-server-hello' && p === 0 && ((type !== TlsContentType.HANDSHAKE && type !== TlsContentType.ALERT) || this.rx[p + 1]! >= 0x10)) {
        // A peer that is not speaking TLS (a plain HTTP server's "HTTP/1.1 400"): Go's crypto/tls gives up
        // on the first record header without sending an alert ("first record does not look like a TLS handshake").
        this.badFirstRecord = String.fromCharCode(...this.rx.subarray(0, TLS_RECORD_HEADER_LENGTH));
        return this.fail('first record does not look like a TLS handshake', null);
      }
      if (type < 20 || type > 23 || this.rx[p + 1] !== 3 || len > 16384 + 256) return this.fail('decode_error', TlsAlert.DECODE_ERROR);
      if (this.rxLen - p < TLS_RECORD_HEADER_LENGTH + len) break;
      this.counters.recordsIn++;
      this.record(type, p + TLS_RECORD_HEADER_LENGTH, len);
      p += TLS_RECORD_HEADER_LENGTH + len;
    }
    if (p > 0) {
      this.rx.copyWithin(0, p, this.rxLen);
      this.rxLen -= p;
    }
  }

  private record(type: number, off: number, len: number): void {
    if (type === TlsContentType.CHANGE_CIPHER_SPEC) {
      // §5: a CCS of one byte 0x01 during the handshake is dropped; any other is unexpected.
      if (this.phase === 'connected' || len !== 1 || this.rx[off] !== 1) this.fail('unexpected_message', TlsAlert.UNEXPECTED_MESSAGE);
      return;
    }
    if (this.phase === 'wait-client-hello' || this.phase === 'wait-server-hello') {
      // Before the keys an alert comes in the clear (a server refusing the ClientHello).
      if (type === TlsContentType.ALERT) return this.alertReceived(this.rx.subarray(off, off + len));
      return this.plainHandshake(type, off, len);
    }
    if (type !== TlsContentType.APPLICATION_DATA) return this.fail('unexpected_message', TlsAlert.UNEXPECTED_MESSAGE);
    const opened = openRecord(this.rx, off, len, this.readKey, this.readSeq++);
    if (opened === null) return this.fail('bad_record_mac', TlsAlert.BAD_RECORD_MAC);
    this.innerRecord(opened.type, off, opened.length);
  }

  private plainHandshake(type: number, off: number, len: number): void {
    if (type !== TlsContentType.HANDSHAKE) return this.fail('unexpected_message', TlsAlert.UNEXPECTED_MESSAGE);
    try {
      if (this.phase === 'wait-client-hello') return this.serverFlight(this.rx.subarray(0, off + len), off);
      const { hello } = decodeServerHello(this.rx.subarray(0, off + len), off);
      if (readSelectedVersion(hello.extensions) !== TlsVersion.TLS13 || readKeyShare(hello.extensions, 'server') === null) return this.fail('protocol_version', TlsAlert.PROTOCOL_VERSION);
      this.serverRandom = hello.random;
      this.readKey = modelTrafficKey(this.clientRandom, this.serverRandom, 1, 'handshake');
      this.writeKey = modelTrafficKey(this.clientRandom, this.serverRandom, 0, 'handshake');
      this.phase = 'wait-server-flight';
    } catch {
      this.fail('decode_error', TlsAlert.DECODE_ERROR);
    }
  }

  private innerRecord(type: number, off: number, len: number): void {
    const plain = this.rx.subarray(off, off + len);
    switch (type) {
      case TlsContentType.APPLICATION_DATA:
        if (this.phase !== 'connected') return this.fail('unexpected_message', TlsAlert.UNEXPECTED_MESSAGE);
        if (len > 0 && !this.peerClosed) {
          if (this.handler !== null) this.handler.streamData(plain.slice(), len);
          else this.onData?.(plain.slice(), len);
        }
        return;
      case TlsContentType.ALERT:
        return this.alertReceived(plain);
      case TlsContentType.HANDSHAKE:
        return this.encryptedHandshake(plain);
      default:
        return this.fail('unexpected_message', TlsAlert.UNEXPECTED_MESSAGE);
    }
  }

  /** close_notify ends the peer's data (§6.1); any other alert is fatal (§6.2). */
  private alertReceived(alert: Uint8Array): void {
    if (alert.length === 2 && alert[1] === TlsAlert.CLOSE_NOTIFY) this.peerClosed = true;
    else this.fail(`peer sent alert ${alert[1] ?? '?'}`, null);
  }

  private encryptedHandshake(plain: Uint8Array): void {
    let types: number[];
    try {
      types = handshakeTypes(plain);
    } catch {
      return this.fail('decode_error', TlsAlert.DECODE_ERROR);
    }
    for (const t of types) {
      if (this.phase === 'wait-server-flight') {
        const want = [TlsHandshakeType.ENCRYPTED_EXTENSIONS, TlsHandshakeType.CERTIFICATE, TlsHandshakeType.CERTIFICATE_VERIFY, TlsHandshakeType.FINISHED][this.flightSeen];
        if (t !== want) return this.fail('unexpected_message', TlsAlert.UNEXPECTED_MESSAGE);
        if (t === TlsHandshakeType.ENCRYPTED_EXTENSIONS) {
          try {
            this.alpnProtocol = readEeAlpn(plain);
          } catch {
            return this.fail('decode_error', TlsAlert.DECODE_ERROR);
          }
        }
        if (++this.flightSeen === 4) {
          this.sendClientFinished();
          this.handshakeDone();
        }
      } else if (this.phase === 'wait-client-finished') {
        if (t !== TlsHandshakeType.FINISHED) return this.fail('unexpected_message', TlsAlert.UNEXPECTED_MESSAGE);
        this.enterApplicationEpoch();
        this.readKey = modelTrafficKey(this.clientRandom, this.serverRandom, 0, 'application');
        this.readSeq = 0;
        this.sendTickets();
        this.handshakeDone();
      } else if (!(this.role === 'client' && t === TlsHandshakeType.NEW_SESSION_TICKET)) {
        return this.fail('unexpected_message', TlsAlert.UNEXPECTED_MESSAGE);
      }
    }
  }

  /**
   * A fatal error (RFC 8446 §6.2): send the alert (in the clear before the keys, else protected), close
   * the connection (FIN, as OpenSSL's caller closes the socket) and report it to the application.
   */
  private fail(reason: string, alert: number | null): void {
    if (this.phase === 'failed') return;
    const keyed = this.phase !== 'wait-client-hello' && this.phase !== 'wait-server-hello' && this.phase !== 'wait-connect';
    this.phase = 'failed';
    this.failure = reason;
    this.counters.failures++;
    if (alert !== null && this.canWrite() && !this.closeSent) {
      const body = Uint8Array.of(2, alert);
      this.tcp.send(keyed ? sealRecordBytes(TlsContentType.ALERT, body, this.writeKey, this.writeSeq++) : Uint8Array.of(TlsContentType.ALERT, 3, 3, 0, 2, 2, alert));
    }
    this.closeSent = true;
    this.tcp.close();
    this.tellError('reset');
  }
}

function readEeAlpn(ee: Uint8Array): string | null {
  return readAlpn(decodeEncryptedExtensions(ee, 0).extensions)[0] ?? null;
}

function concat(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

/** A TLS server on a TCP port: each accepted connection becomes a server-side TlsSocket. */
export class TlsServer {
  private readonly listener: TcpListener;
  constructor(
    tcp: TcpLayer,
    port: number,
    readonly ctx: TlsServerContext,
    onConnection: (s: TlsSocket) => void,
    opts: TcpSocketOptions & { backlog?: number } = {},
  ) {
    this.listener = tcp.listen(port, (sock) => onConnection(TlsSocket.accept(sock, ctx)), opts);
  }

  /** Stops accepting connections. */
  close(): void {
    this.listener.close();
  }
}

/** Client-side constructor, for symmetry with TlsServer. */
export const TlsClient = { connect: TlsSocket.connect };

export { certificateChain, FAKE_CERTIFICATE, normalizeServerName, parseChainSpec, selectCertificateBySni, type TlsCertificateChain, type TlsKeyType } from './tls-certs.js';
