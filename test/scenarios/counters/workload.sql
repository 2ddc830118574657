INSERT INTO {{db}}.t (v) VALUES ('d');
DELETE FROM {{db}}.t WHERE id = 4;
INSERT INTO {{db}}.audit (code) VALUES ('cc');
DELETE FROM {{db}}.audit WHERE code = 'cc';
-- cut: highest-deleted
INSERT INTO {{db}}.t (id, v) VALUES (40, 'x');
DELETE FROM {{db}}.t WHERE id = 40;
ALTER TABLE {{db}}.t AUTO_INCREMENT = 100;
-- cut: altered
INSERT INTO {{db}}.t (v) VALUES ('e');
TRUNCATE TABLE {{db}}.t;
INSERT INTO {{db}}.t (v) VALUES ('f'), ('g');
DELETE FROM {{db}}.t WHERE v = 'g';
-- cut: truncated
