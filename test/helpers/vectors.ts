// test/helpers/vectors — real frames captured with dumpcap on a veth (pw0 <-> pw1 in a network
// namespace, Linux 6.x, tx checksum offload switched off so TCP/UDP checksums are final) and on a
// VXLAN device (id 1, dstport 8472) over that veth. tshark validates every checksum in them.
// Topology: 10.99.0.1 (pw0, 62:1d:b7:ad:d0:ca) <-> 10.99.0.2 (pw1, 1a:a0:41:99:ce:49);
// VXLAN 10.200.0.1 (vx0, 1e:b2:47:b1:af:b6) <-> 10.200.0.2 (vx1, 56:06:26:92:2f:6a).
// The SYN was sent from the namespace with tcp_rmem "4096 131072 6291456": mss 1460,sackOK,TS,nop,wscale 7.

/** Hex string → bytes. */
export function hex(s: string): Uint8Array {
  const clean = s.replace(/[^0-9a-f]/gi, '');
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** Bytes → hex string. */
export function toHex(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i++) s += b[i]!.toString(16).padStart(2, '0');
  return s;
}

/** Real Ethernet frames, as hex. */
export const FRAMES = {
  arpRequest:
    'ffffffffffff621db7add0ca08060001080006040001621db7add0ca0a6300010000000000000a630002',
  arpReply:
    '621db7add0ca1aa04199ce49080600010800060400021aa04199ce490a630002621db7add0ca0a630001',
  icmpEchoRequest:
    '1aa04199ce49621db7add0ca08004500004408cb400040011d260a6300010a630002080026f812340001101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f3031323334353637',
  icmpEchoReply:
    '621db7add0ca1aa04199ce490800450000445d4a0000400108a70a6300020a63000100002ef812340001101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f3031323334353637',
  tcpSyn:
    '621db7add0ca1aa04199ce4908004500003c621640004006c3dd0a6300020a630001c43a1f90a84ec53300000000a002faf061560000020405b40402080a7a410b620000000001030307',
  tcpRstAck:
    '1aa04199ce49621db7add0ca08004500002800004000400626080a6300010a6300021f90c43a00000000a84ec5345014000049ba0000',
  udpDatagram:
    '1aa04199ce49621db7add0ca0800450000295de740004011c8140a6300010a630002b51a270f0015278668656c6c6f20706f6477697265',
  icmpPortUnreachable:
    '621db7add0ca1aa04199ce49080045c000455d7b0000400107b50a6300020a630001030311ec00000000450000295de740004011c8140a6300010a630002b51a270f0015278668656c6c6f20706f6477697265',
  vxlanArpRequest:
    '1aa04199ce49621db7add0ca08004500004e5e1b0000401107bc0a6300010a63000294ef2118003ad3d60800000000000100ffffffffffff1eb247b1afb6080600010800060400011eb247b1afb60ac800010000000000000ac80002',
  vxlanIcmpEchoRequest:
    '1aa04199ce49621db7add0ca0800450000765e1c0000401107930a6300010a630002b89e211800623d8e0800000000000100560626922f6a1eb247b1afb6080045000044bd1f4000400168070ac800010ac80002080026f812340001101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f3031323334353637',
} as const;
