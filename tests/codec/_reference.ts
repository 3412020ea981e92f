/**
 * Reference implementations of the cut rules, written for obviousness over a
 * whole input (no chunks): the codecs must match them for any chunking.
 */

import { latin1, type Out } from "./_chunkings.ts";

function indexOfBytes(input: Uint8Array, needle: Uint8Array, from: number): number {
  outer: for (let i = from; i + needle.length <= input.length; i++) {
    for (let j = 0; j < needle.length; j++) if (input[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

/** DelimiterCore's rule: leftmost delimiter starting within maxLength, else cut at maxLength. */
export function refDelimiter(input: Uint8Array, delimiter: Uint8Array, max: number): Out[] {
  const out: Out[] = [];
  let pos = 0;
  while (pos < input.length) {
    const p = indexOfBytes(input, delimiter, pos);
    if (p >= 0 && p - pos <= max) {
      out.push([latin1(input.subarray(pos, p)), true]);
      pos = p + delimiter.length;
    } else {
      const end = Math.min(pos + max, input.length);
      out.push([latin1(input.subarray(pos, end)), false]);
      pos = end;
    }
  }
  return out;
}

/** LineCore's rule: lines end at CRLF, LF or CR (first one within maxLength), else cut. */
export function refLines(input: Uint8Array, max: number): Out[] {
  const out: Out[] = [];
  let pos = 0;
  while (pos < input.length) {
    let e = pos;
    while (e < input.length && input[e] !== 10 && input[e] !== 13) e++;
    if (e < input.length && e - pos <= max) {
      out.push([latin1(input.subarray(pos, e)), true]);
      pos = e + (input[e] === 13 && input[e + 1] === 10 ? 2 : 1);
    } else {
      const end = Math.min(pos + max, input.length);
      out.push([latin1(input.subarray(pos, end)), false]);
      pos = end;
    }
  }
  return out;
}

/** RecordCore's rule for a fixed length > 0. */
export function refRecords(input: Uint8Array, length: number): Out[] {
  const out: Out[] = [];
  for (let pos = 0; pos < input.length; pos += length) {
    const piece = input.subarray(pos, pos + length);
    out.push([latin1(piece), piece.length === length]);
  }
  return out;
}
