SET SESSION sql_mode = '';
SET SESSION time_zone = '-08:00';
INSERT INTO {{db}}.types SELECT id + 10, ti, tiu, si, siu, mi, miu, i, iu, bi, biu, d1, d2, d3, f, dbl, b1, b8, b64, dt0, dtm, dtm6, dtm3, ts0, ts6, tm, tm6, tm2, y, c5, c5l, vc, vcl, txt, ltxt, bin4, vbin, bl, mbl, lbl, e, s, j, g, pt, u, i4, i6 FROM {{db}}.types;
-- cut: copied
UPDATE {{db}}.types SET vc = CONCAT(IFNULL(vc, ''), '!'), f = -f, ts6 = '2001-02-03 04:05:06.654321', b64 = b'1010', u = '00000000-0000-0000-0000-000000000001', pt = POINT(0, 0) WHERE id IN (1, 12);
DELETE FROM {{db}}.types WHERE id = 2;
-- cut: changed
UPDATE {{db}}.types SET ltxt = NULL, lbl = REPEAT(x'ab', 3000000) WHERE id = 11;
DELETE FROM {{db}}.types WHERE id = 13;
-- cut: big
