UPDATE {{db}}.accounts SET balance = 700 WHERE id = 2;
CALL {{db}}.charge(1);
-- cut: created
SET SESSION sql_mode = 'ANSI_QUOTES,NO_ENGINE_SUBSTITUTION';
CREATE OR REPLACE VIEW {{db}}.rich AS SELECT id, owner, balance FROM {{db}}.accounts WHERE balance > 600;
CREATE PROCEDURE {{db}}.quoted() SELECT "owner" FROM {{db}}.accounts;
SET SESSION sql_mode = DEFAULT;
DROP TRIGGER {{db}}.accounts_bu;
ALTER EVENT {{db}}.nightly ON SCHEDULE EVERY 2 DAY STARTS '2030-01-02 03:00:00';
INSERT INTO {{db}}.accounts (id, owner, balance) VALUES (3, 'cy', 5);
-- cut: changed
DROP FUNCTION {{db}}.fee;
DROP PROCEDURE {{db}}.charge;
DROP VIEW {{db}}.rich_owners;
CREATE EVENT {{db}}.hourly ON SCHEDULE EVERY 1 HOUR STARTS '2030-01-01 00:00:00' DISABLE DO DELETE FROM {{db}}.audit WHERE id < 0;
CREATE TABLE {{db}}.scratchpad (id INT PRIMARY KEY);
CREATE TRIGGER {{db}}.scratchpad_bi BEFORE INSERT ON {{db}}.scratchpad FOR EACH ROW SET NEW.id = NEW.id + 1000;
DROP TABLE {{db}}.scratchpad;
-- cut: dropped
