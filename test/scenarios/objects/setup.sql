-- Views, triggers, a procedure, a function and an event: a database restore recreates each as it was
-- defined at the cut, after the rows are loaded (the triggers must not fire during the load: the
-- audit rows they wrote on the source are in the log already), and events come back disabled.
CREATE TABLE {{db}}.accounts (id INT PRIMARY KEY, owner VARCHAR(20) NOT NULL, balance DECIMAL(10,2) NOT NULL, updates INT NOT NULL DEFAULT 0);
CREATE TABLE {{db}}.audit (id INT AUTO_INCREMENT PRIMARY KEY, account_id INT NOT NULL, what VARCHAR(20) NOT NULL);
CREATE TRIGGER {{db}}.accounts_ai AFTER INSERT ON {{db}}.accounts FOR EACH ROW INSERT INTO {{db}}.audit (account_id, what) VALUES (NEW.id, 'insert');
CREATE TRIGGER {{db}}.accounts_bu BEFORE UPDATE ON {{db}}.accounts FOR EACH ROW SET NEW.updates = OLD.updates + 1;
CREATE VIEW {{db}}.rich AS SELECT id, owner, balance FROM {{db}}.accounts WHERE balance > 100;
CREATE VIEW {{db}}.rich_owners AS SELECT owner FROM {{db}}.rich;
CREATE FUNCTION {{db}}.fee(b DECIMAL(10,2)) RETURNS DECIMAL(10,2) DETERMINISTIC RETURN b * 0.01;
CREATE PROCEDURE {{db}}.charge(IN acct INT) BEGIN UPDATE {{db}}.accounts SET balance = balance - {{db}}.fee(balance) WHERE id = acct; INSERT INTO {{db}}.audit (account_id, what) VALUES (acct, 'charge'); END;
CREATE EVENT {{db}}.nightly ON SCHEDULE EVERY 1 DAY STARTS '2030-01-01 03:00:00' DO CALL {{db}}.charge(1);
INSERT INTO {{db}}.accounts (id, owner, balance) VALUES (1, 'ann', 500), (2, 'bob', 50);
