-- Each step's cascaded changes are not in the binlog: the restore must apply them itself.
INSERT INTO {{db}}.orders VALUES (12, 1, 'a3');
INSERT INTO {{db}}.items (order_id, sku) VALUES (12, 'w');
UPDATE {{db}}.plain SET v = 10 WHERE id = 1;
DELETE FROM {{db}}.customers WHERE id = 1;
-- cut: chain-deleted
UPDATE {{db}}.customers SET id = 22 WHERE id = 2;
UPDATE {{db}}.orders SET id = 21 WHERE id = 20;
-- cut: keys-updated
DELETE FROM {{db}}.tree WHERE id = 2;
UPDATE {{db}}.tree SET label = 'b!' WHERE id = 3;
-- cut: subtree-deleted
SET SESSION foreign_key_checks = 0;
DELETE FROM {{db}}.customers WHERE id = 3;
SET SESSION foreign_key_checks = 1;
-- cut: unchecked-delete
BEGIN;
INSERT INTO {{db}}.customers VALUES (1, 'ann again');
INSERT INTO {{db}}.orders VALUES (10, 1, 'a1 again');
INSERT INTO {{db}}.items (order_id, sku) VALUES (10, 'new');
DELETE FROM {{db}}.tree WHERE id = 6;
COMMIT;
-- cut: keys-reused
ALTER TABLE {{db}}.addresses DROP FOREIGN KEY fk_addresses_customer;
DELETE FROM {{db}}.customers WHERE id = 4;
-- cut: fk-dropped
UPDATE {{db}}.addresses SET customer_id = NULL WHERE customer_id IN (3, 4);
ALTER TABLE {{db}}.addresses ADD CONSTRAINT fk_addresses_customer2 FOREIGN KEY (customer_id) REFERENCES customers (id) ON DELETE CASCADE;
INSERT INTO {{db}}.addresses VALUES (5, 1, 'Pisa');
DELETE FROM {{db}}.customers WHERE id = 1;
-- cut: fk-readded
