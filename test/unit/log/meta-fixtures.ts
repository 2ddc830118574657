// Hand-made meta-topic records shared by the meta-state and cut-planner tests.
import { RECORD_VERSION, type RecordMsg } from '../../../src/log/record-types.js';

export const BASE = 1582484160; // 2020-02-23T18:56:00Z

export function snapshotBegin(id: string, fileSeq: number, endPos: number, time: number): RecordMsg {
  return {
    version: RECORD_VERSION,
    sourceId: 's',
    snapshotBegin: {
      snapshotId: id,
      position: { fileSeq, endPos },
      gtidPos: '0-1-1',
      time,
      tables: [{ database: 'shop', table: 'orders', createSql: 'CREATE TABLE `orders` (`id` int)' }],
      createDatabases: ['CREATE DATABASE `shop`'],
      binlogFile: `mariadb-bin.${String(fileSeq).padStart(6, '0')}`,
    },
  };
}

export function snapshotEnd(id: string, fileSeq: number, endPos: number): RecordMsg {
  return {
    version: RECORD_VERSION,
    sourceId: 's',
    snapshotEnd: { snapshotId: id, position: { fileSeq, endPos }, tables: [{ database: 'shop', table: 'orders', rows: 3 }] },
  };
}

export interface T {
  file: number;
  pos: number;
  time: number;
  seq: number | string;
  domain?: number;
  server?: number;
}

export function txnIndex(txns: T[], resume: { file: number; pos: number; time: number }): RecordMsg {
  return {
    version: RECORD_VERSION,
    sourceId: 's',
    txnIndex: {
      fileSeq: txns.map((t) => t.file),
      endPos: txns.map((t) => t.pos),
      commitTime: txns.map((t) => t.time),
      domain: txns.map((t) => t.domain ?? 0),
      serverId: txns.map((t) => t.server ?? 1),
      seq: txns.map((t) => String(t.seq)),
      binlogFile: `mariadb-bin.${String(resume.file).padStart(6, '0')}`,
      resume: { fileSeq: resume.file, endPos: resume.pos },
      gtidPos: `0-1-${txns.length ? txns[txns.length - 1]!.seq : 0}`,
      time: resume.time,
    },
  };
}

export function ddl(statement: string, fileSeq: number, endPos: number, time: number, seq: number): RecordMsg {
  return {
    version: RECORD_VERSION,
    sourceId: 's',
    ddl: {
      defaultDatabase: 'shop',
      statement,
      gtid: { domain: 0, serverId: 1, seq },
      position: { fileSeq, endPos },
      commitTime: time,
    },
  };
}
