import { describe, expect, it } from 'vitest';
import { NULL_VALUE, T, encodeBinlogValue, encodeSnapshotValue } from '../../../src/capture/value-encoder.js';

describe('encodeBinlogValue', () => {
  it('encodes NULL and undefined as null', () => {
    expect(encodeBinlogValue(null, T.LONG)).toEqual({ null: true });
    expect(encodeBinlogValue(undefined, T.VARCHAR)).toBe(NULL_VALUE);
  });

  it('encodes integers: numbers and signed strings as int, beyond int64 max as uint', () => {
    expect(encodeBinlogValue(42, T.LONG)).toEqual({ int: 42 });
    expect(encodeBinlogValue(-5, T.TINY)).toEqual({ int: -5 });
    expect(encodeBinlogValue('18446744073709551615', T.LONGLONG)).toEqual({ uint: '18446744073709551615' });
    expect(encodeBinlogValue('9223372036854775808', T.LONGLONG)).toEqual({ uint: '9223372036854775808' });
    expect(encodeBinlogValue('9223372036854775807', T.LONGLONG)).toEqual({ int: '9223372036854775807' });
    expect(encodeBinlogValue('-9223372036854775808', T.LONGLONG)).toEqual({ int: '-9223372036854775808' });
    expect(encodeBinlogValue(18446744073709551615n, T.LONGLONG)).toEqual({ uint: '18446744073709551615' });
    expect(encodeBinlogValue(2020, T.YEAR)).toEqual({ int: 2020 });
  });

  it('encodes BIT buffers as an unsigned big-endian integer', () => {
    expect(encodeBinlogValue(Buffer.from([0x01, 0x02]), T.BIT)).toEqual({ bit: '258' });
    expect(encodeBinlogValue(Buffer.alloc(8, 0xff), T.BIT)).toEqual({ bit: '18446744073709551615' });
    expect(encodeBinlogValue(Buffer.from([0]), T.BIT)).toEqual({ bit: '0' });
  });

  it('keeps DECIMAL as its exact text', () => {
    expect(encodeBinlogValue('-123.4500', T.NEWDECIMAL)).toEqual({ decimal: '-123.4500' });
    expect(encodeBinlogValue('0.000000000000000000000000000001', T.DECIMAL)).toEqual({ decimal: '0.000000000000000000000000000001' });
  });

  it('keeps temporal strings as they are', () => {
    expect(encodeBinlogValue('2020-02-23 18:56:01.123456', T.DATETIME2)).toEqual({ temporal: '2020-02-23 18:56:01.123456' });
    expect(encodeBinlogValue('0000-00-00 00:00:00', T.TIMESTAMP2)).toEqual({ temporal: '0000-00-00 00:00:00' });
    expect(encodeBinlogValue('-838:59:59', T.TIME2)).toEqual({ temporal: '-838:59:59' });
    expect(encodeBinlogValue('2020-02-23', T.DATE)).toEqual({ temporal: '2020-02-23' });
  });

  it('refuses a Date for a temporal column', () => {
    expect(() => encodeBinlogValue(new Date(0), T.DATETIME)).toThrow(/dateStrings/);
  });

  it('encodes floats, doubles, JSON, ENUM/SET, strings and buffers', () => {
    expect(encodeBinlogValue(0.5, T.FLOAT)).toEqual({ float: 0.5 });
    expect(encodeBinlogValue(0.1, T.DOUBLE)).toEqual({ double: 0.1 });
    expect(encodeBinlogValue('{"a":1}', T.JSON)).toEqual({ json: '{"a":1}' });
    expect(encodeBinlogValue({ a: [1, 'x'] }, T.JSON)).toEqual({ json: '{"a":[1,"x"]}' });
    expect(encodeBinlogValue('red', T.ENUM)).toEqual({ text: 'red' });
    expect(encodeBinlogValue('a,b', T.SET)).toEqual({ text: 'a,b' });
    expect(encodeBinlogValue('héllo 😀', T.VARCHAR)).toEqual({ text: 'héllo 😀' });
    const buf = Buffer.from([0, 1, 2, 0]);
    const v = encodeBinlogValue(buf, T.BLOB);
    expect(Object.keys(v)).toEqual(['bytes']);
    expect(Array.from(v.bytes!)).toEqual([0, 1, 2, 0]);
    expect(encodeBinlogValue(new Uint8Array([9]), T.STRING).bytes).toEqual(new Uint8Array([9]));
  });
});

describe('encodeSnapshotValue', () => {
  it('encodes text-protocol values exactly', () => {
    expect(encodeSnapshotValue(null, T.LONG, false)).toEqual({ null: true });
    expect(encodeSnapshotValue('18446744073709551615', T.LONGLONG, false)).toEqual({ uint: '18446744073709551615' });
    expect(encodeSnapshotValue('-7', T.LONG, false)).toEqual({ int: '-7' });
    expect(encodeSnapshotValue('0.1', T.FLOAT, false)).toEqual({ float: 0.1 });
    expect(encodeSnapshotValue('1.10', T.NEWDECIMAL, false)).toEqual({ decimal: '1.10' });
    expect(encodeSnapshotValue(Buffer.from([1, 0]), T.BIT, true)).toEqual({ bit: '256' });
    expect(encodeSnapshotValue('2020-02-23 18:56:01.000000', T.DATETIME, false)).toEqual({ temporal: '2020-02-23 18:56:01.000000' });
    expect(encodeSnapshotValue('abc', T.VAR_STRING, false)).toEqual({ text: 'abc' });
    expect(encodeSnapshotValue(Buffer.from([0, 255]), T.BLOB, true).bytes).toEqual(Buffer.from([0, 255]));
    expect(encodeSnapshotValue('ab', T.STRING, true).bytes).toEqual(Buffer.from('ab'));
  });
});
