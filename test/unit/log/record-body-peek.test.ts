import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import { encodeRecord, RecordField, recordBodyField, viewRowRecord } from '../../../src/log/record-codec.js';
import { RECORD_VERSION, type RecordMsg } from '../../../src/log/record-types.js';

const proto = protobuf.loadSync(fileURLToPath(new URL('../../../proto/pitr/v1/log.proto', import.meta.url))).lookupType('pitr.v1.Record');

describe('the record-body peek', () => {
  it('names every field of the Record envelope with the number log.proto gives it', () => {
    const fromProto = Object.fromEntries(Object.values(proto.fields).map((f) => [f.name, f.id]));
    const named = Object.fromEntries(Object.entries(RecordField).map(([k, v]) => [k.replace(/^./, (c) => c.toLowerCase()), v]));
    expect(named).toEqual(fromProto);
  });

  it('tells every body from the wire, and no body as 0', () => {
    for (const field of proto.oneofs.body!.fieldsArray) {
      const buf = encodeRecord({ version: RECORD_VERSION, sourceId: 's', [field.name]: {} } as unknown as RecordMsg);
      expect(recordBodyField(buf)).toBe(field.id);
    }
    expect(recordBodyField(encodeRecord({ version: RECORD_VERSION, sourceId: 's' } as RecordMsg))).toBe(0);
  });

  it('is the envelope reader the row views use: other bodies give no view', () => {
    const ddl = encodeRecord({ version: RECORD_VERSION, sourceId: 's', ddl: {} } as unknown as RecordMsg);
    expect(viewRowRecord(ddl, 'test', 's')).toBeNull();
    const rows = encodeRecord({ version: RECORD_VERSION, sourceId: 's', snapshotRows: { snapshotId: 'x', database: 'd', table: 't', columns: ['a'], rows: [], position: { fileSeq: 1, endPos: 4 } } });
    expect(viewRowRecord(rows, 'test', 's')).toMatchObject({ kind: 'snapshotRows', snapshotId: 'x', database: 'd', table: 't', columns: ['a'] });
  });
});
