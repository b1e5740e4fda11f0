/**
 * Minimal pcap reader and TCP reassembler for the golden-bytes captures.
 *
 * Reads a classic pcap file (as `tcpdump -w` writes it), decodes the link layer
 * (Ethernet, Linux cooked v1/v2, BSD loopback, raw IP), IPv4/IPv6 and TCP, and
 * reassembles each TCP connection's two byte streams by sequence number.
 * Self-contained on purpose: the captures must not depend on the codec they test.
 */

export interface TcpSegment {
  /** Seconds since the epoch, with microsecond (or nanosecond) fraction. */
  ts: number;
  src: string;
  dst: string;
  srcPort: number;
  dstPort: number;
  seq: number;
  syn: boolean;
  fin: boolean;
  rst: boolean;
  payload: Buffer;
}

/** One direction of one TCP connection, reassembled. */
export interface TcpStream {
  /** "ip:port>ip:port" */
  id: string;
  src: string;
  srcPort: number;
  dst: string;
  dstPort: number;
  data: Buffer;
  /** For each byte range start (stream offset) the capture timestamp of the segment that carried it. */
  marks: { offset: number; ts: number }[];
  /** Set when a hole was found: data holds only the bytes before it. */
  gapAt?: number;
  firstTs: number;
}

const LINKTYPE_NULL = 0;
const LINKTYPE_ETHERNET = 1;
const LINKTYPE_RAW = 101;
const LINKTYPE_LINUX_SLL = 113;
const LINKTYPE_LINUX_SLL2 = 276;

export function readPcap(file: Buffer): TcpSegment[] {
  if (file.length < 24) throw new Error('pcap: file shorter than the global header');
  const magic = file.readUInt32LE(0);
  let le: boolean;
  let nanos = false;
  if (magic === 0xa1b2c3d4) le = true;
  else if (magic === 0xd4c3b2a1) le = false;
  else if (magic === 0xa1b23c4d) {
    le = true;
    nanos = true;
  } else if (magic === 0x4d3cb2a1) {
    le = false;
    nanos = true;
  } else throw new Error(`pcap: unknown magic 0x${magic.toString(16)} (pcapng is not supported)`);
  const u32 = (o: number) => (le ? file.readUInt32LE(o) : file.readUInt32BE(o));
  const linkType = u32(20) & 0x0fffffff;
  const out: TcpSegment[] = [];
  let off = 24;
  while (off + 16 <= file.length) {
    const sec = u32(off);
    const frac = u32(off + 4);
    const inclLen = u32(off + 8);
    const origLen = u32(off + 12);
    off += 16;
    if (off + inclLen > file.length) break; // truncated last record (capture stopped mid-write)
    if (inclLen < origLen) throw new Error('pcap: packet truncated by snaplen; capture with -s 0');
    const pkt = file.subarray(off, off + inclLen);
    off += inclLen;
    const ts = sec + frac / (nanos ? 1e9 : 1e6);
    const seg = decodePacket(pkt, linkType, ts);
    if (seg) out.push(seg);
  }
  return out;
}

function decodePacket(pkt: Buffer, linkType: number, ts: number): TcpSegment | undefined {
  let p = 0;
  let etherType: number;
  switch (linkType) {
    case LINKTYPE_ETHERNET:
      etherType = pkt.readUInt16BE(12);
      p = 14;
      while (etherType === 0x8100) {
        etherType = pkt.readUInt16BE(p + 2);
        p += 4;
      }
      break;
    case LINKTYPE_LINUX_SLL:
      etherType = pkt.readUInt16BE(14);
      p = 16;
      break;
    case LINKTYPE_LINUX_SLL2:
      etherType = pkt.readUInt16BE(0);
      p = 20;
      break;
    case LINKTYPE_NULL: {
      const family = pkt.readUInt32LE(0) > 0xffff ? pkt.readUInt32BE(0) : pkt.readUInt32LE(0);
      etherType = family === 2 ? 0x0800 : 0x86dd;
      p = 4;
      break;
    }
    case LINKTYPE_RAW:
      etherType = pkt[0]! >> 4 === 4 ? 0x0800 : 0x86dd;
      break;
    default:
      throw new Error(`pcap: unsupported link type ${linkType}`);
  }
  let src: string;
  let dst: string;
  let tcpStart: number;
  let ipEnd: number;
  if (etherType === 0x0800) {
    const ihl = (pkt[p]! & 0x0f) * 4;
    const totalLen = pkt.readUInt16BE(p + 2);
    if (pkt[p + 9] !== 6) return undefined;
    const fragOff = pkt.readUInt16BE(p + 6) & 0x3fff;
    if (fragOff !== 0) throw new Error('pcap: fragmented IPv4 packet on loopback is unexpected');
    src = `${pkt[p + 12]}.${pkt[p + 13]}.${pkt[p + 14]}.${pkt[p + 15]}`;
    dst = `${pkt[p + 16]}.${pkt[p + 17]}.${pkt[p + 18]}.${pkt[p + 19]}`;
    tcpStart = p + ihl;
    ipEnd = p + totalLen;
  } else if (etherType === 0x86dd) {
    if (pkt[p + 6] !== 6) return undefined; // extension headers are not expected on loopback
    const payloadLen = pkt.readUInt16BE(p + 4);
    src = ipv6(pkt.subarray(p + 8, p + 24));
    dst = ipv6(pkt.subarray(p + 24, p + 40));
    tcpStart = p + 40;
    ipEnd = tcpStart + payloadLen;
  } else return undefined;
  const t = tcpStart;
  const dataOff = (pkt[t + 12]! >> 4) * 4;
  const flags = pkt[t + 13]!;
  return {
    ts,
    src,
    dst,
    srcPort: pkt.readUInt16BE(t),
    dstPort: pkt.readUInt16BE(t + 2),
    seq: pkt.readUInt32BE(t + 4),
    syn: (flags & 0x02) !== 0,
    fin: (flags & 0x01) !== 0,
    rst: (flags & 0x04) !== 0,
    payload: pkt.subarray(t + dataOff, ipEnd),
  };
}

function ipv6(b: Buffer): string {
  const parts: string[] = [];
  for (let i = 0; i < 16; i += 2) parts.push(b.readUInt16BE(i).toString(16));
  return `[${parts.join(':')}]`;
}

/** Groups segments into per-direction streams and reassembles them by sequence number. */
export function reassemble(segments: TcpSegment[]): TcpStream[] {
  interface Pending {
    key: string;
    seg0: TcpSegment;
    isn?: number;
    segs: TcpSegment[];
  }
  const open = new Map<string, Pending>();
  const done: Pending[] = [];
  for (const s of segments) {
    const key = `${s.src}:${s.srcPort}>${s.dst}:${s.dstPort}`;
    let cur = open.get(key);
    if (s.syn) {
      // A SYN starts a new connection on this 4-tuple (port reuse closes the old one).
      if (cur && (cur.isn === undefined || cur.isn !== s.seq)) {
        done.push(cur);
        cur = undefined;
      }
      if (!cur) {
        cur = { key, seg0: s, isn: s.seq, segs: [] };
        open.set(key, cur);
      }
      continue;
    }
    if (!cur) {
      cur = { key, seg0: s, segs: [] };
      open.set(key, cur);
    }
    if (s.payload.length > 0) cur.segs.push(s);
  }
  done.push(...open.values());

  const streams: TcpStream[] = [];
  for (const p of done) {
    if (p.segs.length === 0) continue;
    const base = p.isn !== undefined ? (p.isn + 1) >>> 0 : Math.min(...p.segs.map((s) => s.seq));
    const rel = p.segs
      .map((s) => ({ off: (s.seq - base) >>> 0, s }))
      .sort((a, b) => a.off - b.off || a.s.ts - b.s.ts);
    const chunks: Buffer[] = [];
    const marks: { offset: number; ts: number }[] = [];
    let next = 0;
    let gapAt: number | undefined;
    for (const { off, s } of rel) {
      const end = off + s.payload.length;
      if (end <= next) continue; // full retransmission
      if (off > next) {
        gapAt = next;
        break;
      }
      const piece = s.payload.subarray(next - off);
      marks.push({ offset: next, ts: s.ts });
      chunks.push(piece);
      next = end;
    }
    const s0 = p.seg0;
    const stream: TcpStream = {
      id: p.key,
      src: s0.src,
      srcPort: s0.srcPort,
      dst: s0.dst,
      dstPort: s0.dstPort,
      data: Buffer.concat(chunks),
      marks,
      firstTs: Math.min(s0.ts, ...p.segs.map((s) => s.ts)),
    };
    if (gapAt !== undefined) stream.gapAt = gapAt;
    streams.push(stream);
  }
  return streams.sort((a, b) => a.firstTs - b.firstTs);
}

/** Timestamp of the segment that carried stream byte `offset`. */
export function tsAt(stream: TcpStream, offset: number): number {
  let lo = 0;
  let hi = stream.marks.length - 1;
  let ans = stream.firstTs;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const m = stream.marks[mid]!;
    if (m.offset <= offset) {
      ans = m.ts;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return ans;
}
