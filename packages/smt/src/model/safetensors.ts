/**
 * The safetensors container: an 8-byte little-endian header length, a JSON header mapping tensor names to
 * `{ dtype, shape, data_offsets: [begin, end] }` (offsets relative to the end of the header), then raw data.
 * F32, F16 and BF16 tensors are read and converted to float32.
 *
 * @module
 */

import { ModelFileError } from './model-file-error.ts';

/** Element types this reader understands. */
export type SafetensorsDtype = 'F32' | 'F16' | 'BF16';

/** One tensor, converted to float32. */
export interface SafetensorsTensor {
  /** The dtype stored in the file. */
  dtype: SafetensorsDtype;
  /** Dimensions, outermost first. */
  shape: number[];
  /** Values as float32, row-major. */
  data: Float32Array;
}

const BYTES_PER: Record<SafetensorsDtype, number> = { F32: 4, F16: 2, BF16: 2 };

/** Decodes an IEEE 754 half-precision bit pattern. */
export function float16ToFloat32(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const mantissa = bits & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;
  if (exponent === 0x1f) return mantissa ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** Encodes a number as IEEE 754 half precision (round to nearest even; overflow → ±Infinity). */
export function float32ToFloat16(value: number): number {
  f32[0] = value;
  const x = u32[0]!;
  const sign = (x >>> 16) & 0x8000;
  const exponent = (x >>> 23) & 0xff;
  let mantissa = x & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa ? 0x200 : 0);
  const e = exponent - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mantissa |= 0x800000;
    const shift = 14 - e;
    let half = mantissa >>> shift;
    const rest = mantissa & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (rest > halfway || (rest === halfway && half & 1)) half++;
    return sign | half;
  }
  let half = (e << 10) | (mantissa >>> 13);
  const rest = mantissa & 0x1fff;
  // A carry out of the mantissa correctly bumps the exponent (and up to Infinity).
  if (rest > 0x1000 || (rest === 0x1000 && half & 1)) half++;
  return sign | half;
}

/** Encodes a number as bfloat16 (the top 16 bits of float32, rounded to nearest even). */
export function float32ToBfloat16(value: number): number {
  f32[0] = value;
  const x = u32[0]!;
  if (Number.isNaN(value)) return 0x7fc0;
  return ((x + 0x7fff + ((x >>> 16) & 1)) >>> 16) & 0xffff;
}

/**
 * Parses a `.safetensors` file. Every entry is validated (dtype supported, shape of non-negative integers,
 * `data_offsets` inside the data section and matching the shape); a {@link ModelFileError} names the tensor
 * and the expected versus found sizes otherwise.
 */
export function parseSafetensors(bytes: Uint8Array, file = 'model.safetensors'): Map<string, SafetensorsTensor> {
  const fail = (field: string, message: string): never => {
    throw new ModelFileError(`${file}: ${message}`, { file, field });
  };
  if (bytes.length < 8) fail('header', `file is ${bytes.length} bytes, too short for the 8-byte header length.`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = view.getBigUint64(0, true);
  if (headerLength > BigInt(bytes.length - 8)) {
    fail('header', `header length ${headerLength} exceeds the ${bytes.length - 8} bytes that follow it.`);
  }
  const dataStart = 8 + Number(headerLength);
  const dataLength = bytes.length - dataStart;
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8').decode(bytes.subarray(8, dataStart)));
  } catch (cause) {
    throw new ModelFileError(`${file}: the header is not valid JSON (${(cause as Error).message}).`, {
      file,
      field: 'header',
      cause,
    });
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) {
    return fail('header', 'the header must be a JSON object of tensor entries.');
  }
  const tensors = new Map<string, SafetensorsTensor>();
  for (const [name, entry] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') continue;
    const { dtype, shape, data_offsets: offsets } = (entry ?? {}) as Record<string, unknown>;
    if (dtype !== 'F32' && dtype !== 'F16' && dtype !== 'BF16') {
      fail(name, `tensor '${name}' has dtype ${JSON.stringify(dtype)}; supported dtypes are F32, F16 and BF16.`);
    }
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
      fail(name, `tensor '${name}' has an invalid shape ${JSON.stringify(shape)}.`);
    }
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isInteger(o) && o >= 0)) {
      fail(name, `tensor '${name}' has invalid data_offsets ${JSON.stringify(offsets)}; expected [begin, end].`);
    }
    const dims = shape as number[];
    const [begin, end] = offsets as [number, number];
    const type = dtype as SafetensorsDtype;
    const count = dims.reduce((a, b) => a * b, 1);
    const expectedBytes = count * BYTES_PER[type];
    if (end < begin || end > dataLength) {
      fail(
        name,
        `tensor '${name}' data_offsets [${begin}, ${end}] are out of range: the data section is ${dataLength} bytes ` +
          `(file size ${bytes.length}, header ${dataStart} bytes).`,
      );
    }
    if (end - begin !== expectedBytes) {
      fail(
        name,
        `tensor '${name}' (${type}, shape [${dims.join(', ')}]) should occupy ${expectedBytes} bytes, but its ` +
          `data_offsets [${begin}, ${end}] span ${end - begin}.`,
      );
    }
    const data = new Float32Array(count);
    const base = dataStart + begin;
    if (type === 'F32') {
      // Copy first: the data section is not necessarily 4-byte aligned in the buffer.
      data.set(new Float32Array(bytes.slice(base, base + expectedBytes).buffer));
    } else if (type === 'F16') {
      for (let i = 0; i < count; i++) data[i] = float16ToFloat32(view.getUint16(base + 2 * i, true));
    } else {
      const out = new Uint32Array(data.buffer);
      for (let i = 0; i < count; i++) out[i] = view.getUint16(base + 2 * i, true) << 16;
    }
    tensors.set(name, { dtype: type, shape: [...dims], data });
  }
  return tensors;
}

/** A tensor to write with {@link serializeSafetensors}. */
export interface SafetensorsInput {
  /** Dimensions, outermost first; their product must equal `data.length`. */
  shape: number[];
  /** Values. */
  data: Float32Array;
  /** Stored dtype (default F32); F16/BF16 round to nearest even. */
  dtype?: SafetensorsDtype;
}

/** Writes tensors as a `.safetensors` file (header padded with spaces to 8-byte alignment, as the reference does). */
export function serializeSafetensors(
  tensors: Record<string, SafetensorsInput>,
  metadata?: Record<string, string>,
): Uint8Array {
  const header: Record<string, unknown> = metadata ? { __metadata__: metadata } : {};
  let offset = 0;
  const entries = Object.entries(tensors).map(([name, t]) => {
    const dtype = t.dtype ?? 'F32';
    const count = t.shape.reduce((a, b) => a * b, 1);
    if (count !== t.data.length) {
      throw new RangeError(
        `tensor '${name}': shape [${t.shape.join(', ')}] has ${count} elements, data has ${t.data.length}`,
      );
    }
    const size = count * BYTES_PER[dtype];
    header[name] = { dtype, shape: t.shape, data_offsets: [offset, offset + size] };
    offset += size;
    return { t, dtype, size };
  });
  const json = new TextEncoder().encode(JSON.stringify(header));
  const headerBytes = new Uint8Array(json.length + ((8 - (json.length % 8)) % 8)).fill(0x20);
  headerBytes.set(json);
  const out = new Uint8Array(8 + headerBytes.length + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let pos = 8 + headerBytes.length;
  for (const { t, dtype, size } of entries) {
    if (dtype === 'F32') out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), pos);
    else {
      const encode = dtype === 'F16' ? float32ToFloat16 : float32ToBfloat16;
      for (let i = 0; i < t.data.length; i++) view.setUint16(pos + 2 * i, encode(t.data[i]!), true);
    }
    pos += size;
  }
  return out;
}
