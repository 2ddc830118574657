DELETE FROM {{db}}.log WHERE msg = 'same' LIMIT 1;
DELETE FROM {{db}}.log WHERE msg IS NULL LIMIT 1;
-- cut: delete-one-of-three
UPDATE {{db}}.log SET level = 'warn' WHERE msg = 'same' LIMIT 1;
UPDATE {{db}}.nullable_uk SET b = 'z' WHERE a IS NULL LIMIT 1;
INSERT INTO {{db}}.log SELECT * FROM {{db}}.log;
-- cut: duplicated
DELETE FROM {{db}}.nullable_uk WHERE b = 'x';
DELETE FROM {{db}}.log WHERE level = 'info' LIMIT 2;
-- cut: deleted
