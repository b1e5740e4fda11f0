/**
 * XXH32 (xxHash, 32-bit), as the LZ4 frame format uses for its header,
 * block and content checksums. Written from the published algorithm
 * description (github.com/Cyan4973/xxHash/blob/dev/doc/xxhash_spec.md).
 */
const P1 = 0x9e3779b1;
const P2 = 0x85ebca77;
const P3 = 0xc2b2ae3d;
const P4 = 0x27d4eb2f;
const P5 = 0x165667b1;

function rotl(x: number, r: number): number {
  return (x << r) | (x >>> (32 - r));
}

function readLE32(b: Uint8Array, i: number): number {
  return b[i]! | (b[i + 1]! << 8) | (b[i + 2]! << 16) | (b[i + 3]! << 24);
}

/** XXH32 of `data[start..end)` with `seed` (0 in LZ4), as an unsigned 32-bit number. */
export function xxhash32(data: Uint8Array, start = 0, end = data.length, seed = 0): number {
  const len = end - start;
  let i = start;
  let acc: number;
  if (len >= 16) {
    let v1 = (seed + P1 + P2) | 0;
    let v2 = (seed + P2) | 0;
    let v3 = seed | 0;
    let v4 = (seed - P1) | 0;
    const limit = end - 16;
    while (i <= limit) {
      v1 = Math.imul(rotl((v1 + Math.imul(readLE32(data, i), P2)) | 0, 13), P1);
      v2 = Math.imul(rotl((v2 + Math.imul(readLE32(data, i + 4), P2)) | 0, 13), P1);
      v3 = Math.imul(rotl((v3 + Math.imul(readLE32(data, i + 8), P2)) | 0, 13), P1);
      v4 = Math.imul(rotl((v4 + Math.imul(readLE32(data, i + 12), P2)) | 0, 13), P1);
      i += 16;
    }
    acc = (rotl(v1, 1) + rotl(v2, 7) + rotl(v3, 12) + rotl(v4, 18)) | 0;
  } else {
    acc = (seed + P5) | 0;
  }
  acc = (acc + len) | 0;
  while (i + 4 <= end) {
    acc = Math.imul(rotl((acc + Math.imul(readLE32(data, i), P3)) | 0, 17), P4);
    i += 4;
  }
  while (i < end) {
    acc = Math.imul(rotl((acc + Math.imul(data[i]!, P5)) | 0, 11), P1);
    i++;
  }
  acc ^= acc >>> 15;
  acc = Math.imul(acc, P2);
  acc ^= acc >>> 13;
  acc = Math.imul(acc, P3);
  acc ^= acc >>> 16;
  return acc >>> 0;
}
