-- Every column type with edge values, written before capture's snapshot or after it (both paths).
SET SESSION sql_mode = '';
SET SESSION time_zone = '+05:30';
CREATE TABLE {{db}}.types (
  id INT PRIMARY KEY,
  ti TINYINT, tiu TINYINT UNSIGNED, si SMALLINT, siu SMALLINT UNSIGNED, mi MEDIUMINT, miu MEDIUMINT UNSIGNED,
  i INT, iu INT UNSIGNED, bi BIGINT, biu BIGINT UNSIGNED,
  d1 DECIMAL(65,30), d2 DECIMAL(10,0), d3 DECIMAL(5,2) UNSIGNED,
  f FLOAT, dbl DOUBLE,
  b1 BIT(1), b8 BIT(8), b64 BIT(64),
  dt0 DATE, dtm DATETIME, dtm6 DATETIME(6), dtm3 DATETIME(3), ts0 TIMESTAMP NULL, ts6 TIMESTAMP(6) NULL,
  tm TIME, tm6 TIME(6), tm2 TIME(2), y YEAR,
  c5 CHAR(5), c5l CHAR(5) CHARACTER SET latin1, vc VARCHAR(100), vcl VARCHAR(100) CHARACTER SET latin1,
  txt TEXT, ltxt LONGTEXT CHARACTER SET latin1,
  bin4 BINARY(4), vbin VARBINARY(20), bl BLOB, mbl MEDIUMBLOB, lbl LONGBLOB,
  e ENUM('a,b', '', 'x''y', 'plain'), s SET('a', 'b c', '', 'd'),
  j JSON,
  g GEOMETRY NULL, pt POINT NULL,
  u UUID NULL, i4 INET4 NULL, i6 INET6 NULL
) DEFAULT CHARSET = utf8mb4;
INSERT INTO {{db}}.types VALUES
 (1, -128, 255, -32768, 65535, -8388608, 16777215, -2147483648, 4294967295, -9223372036854775808, 18446744073709551615,
  '-99999999999999999999999999999999999.999999999999999999999999999999', 9999999999, 999.99,
  -3.40282e38, 1.7976931348623157e308,
  b'1', b'10000001', b'1111111111111111111111111111111111111111111111111111111111111111',
  '0000-00-00', '0000-00-00 00:00:00', '9999-12-31 23:59:59.999999', '1000-01-01 00:00:00.001', '1970-01-01 00:00:01', '2038-01-19 03:14:07.999999',
  '-838:59:59', '-838:59:59.000000', '-00:00:01.50', 1901,
  'ab', 'é', 'ünïcödé 😀 𝄞', 'café', REPEAT('long text ', 1000), REPEAT('é', 70000),
  x'01000000', x'00', x'00ff00ff', REPEAT(x'00ff', 300000), '',
  'a,b', 'b c,d', '{"k": [1, 2.50, "x\\"y"], "n": null, "big": 18446744073709551615}',
  ST_GeomFromText('POLYGON((0 0,10 0,10 10,0 10,0 0))', 4326), POINT(1.5, -2.25),
  '123e4567-e89b-12d3-a456-426614174000', '192.168.0.1', '2001:db8::ff00:42:8329'),
 (2, 127, 0, 32767, 0, 8388607, 0, 2147483647, 0, 9223372036854775807, 0,
  '0.000000000000000000000000000001', -9999999999, 0,
  1.17549e-38, -2.2250738585072014e-308,
  b'0', b'0', b'0',
  '2020-02-29', '2020-02-23 18:56:00', '2020-02-23 18:56:00.000001', '2020-02-23 18:56:00.100', '2020-02-23 18:56:00', '2020-02-23 18:56:00.123456',
  '838:59:59', '00:00:00.000001', '12:34:56.78', 2155,
  'x  ', ' ', '  lead and trail  ', '', '', '',
  x'00000000', x'0000', x'', x'', NULL,
  '', '', '[]', NULL, NULL, NULL, NULL, NULL);
INSERT INTO {{db}}.types (id, e) VALUES (3, 'x''y');
-- TIME at every fractional precision: negative values with a zero fraction (whole seconds, minutes,
-- hours, -00:00:00), the smallest, a middle and the largest fraction, the positive equivalents, the range ends.
CREATE TABLE {{db}}.times (
  id INT PRIMARY KEY, t0 TIME, t1 TIME(1), t2 TIME(2), t3 TIME(3), t4 TIME(4), t5 TIME(5), t6 TIME(6)
);
INSERT INTO {{db}}.times VALUES
 (1, '-01:00:00', '-01:00:00.0', '-01:00:00.00', '-01:00:00.000', '-01:00:00.0000', '-01:00:00.00000', '-01:00:00.000000'),
 (2, NULL, '-01:00:00.1', '-01:00:00.01', '-01:00:00.001', '-01:00:00.0001', '-01:00:00.00001', '-01:00:00.000001'),
 (3, NULL, '-01:00:00.1', '-01:00:00.12', '-01:00:00.123', '-01:00:00.1234', '-01:00:00.12345', '-01:00:00.123456'),
 (4, NULL, '-01:00:00.9', '-01:00:00.99', '-01:00:00.999', '-01:00:00.9999', '-01:00:00.99999', '-01:00:00.999999'),
 (5, '-01:01:00', '-01:01:00.0', '-01:01:00.00', '-01:01:00.000', '-01:01:00.0000', '-01:01:00.00000', '-01:01:00.000000'),
 (6, NULL, '-01:01:00.1', '-01:01:00.01', '-01:01:00.001', '-01:01:00.0001', '-01:01:00.00001', '-01:01:00.000001'),
 (7, NULL, '-01:01:00.1', '-01:01:00.12', '-01:01:00.123', '-01:01:00.1234', '-01:01:00.12345', '-01:01:00.123456'),
 (8, NULL, '-01:01:00.9', '-01:01:00.99', '-01:01:00.999', '-01:01:00.9999', '-01:01:00.99999', '-01:01:00.999999');
