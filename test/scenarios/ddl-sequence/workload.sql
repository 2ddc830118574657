ALTER TABLE {{db}}.items ADD COLUMN color VARCHAR(10) NOT NULL DEFAULT 'green';
INSERT INTO {{db}}.items (name, qty, price, color) VALUES ('kiwi', 5, 3.10, 'brown');
-- cut: add-column
ALTER TABLE {{db}}.items DROP COLUMN qty;
UPDATE {{db}}.items SET price = price * 2 WHERE name = 'apple';
-- cut: drop-column
ALTER TABLE {{db}}.items MODIFY price DECIMAL(6,1);
INSERT INTO {{db}}.items (name, price) VALUES ('fig', 12.3);
-- cut: modify-type
ALTER TABLE {{db}}.items RENAME COLUMN name TO title;
UPDATE {{db}}.items SET title = 'green apple' WHERE title = 'apple';
-- cut: rename-column
ALTER TABLE {{db}}.items ADD INDEX by_title (title), ADD UNIQUE KEY uk_color_title (color, title);
DELETE FROM {{db}}.items WHERE title = 'pear';
-- cut: add-index
RENAME TABLE {{db}}.items TO {{db}}.goods;
INSERT INTO {{db}}.goods (title, price) VALUES ('renamed', 1.0);
-- cut: rename-table
ALTER TABLE {{db}}.goods RENAME TO {{db}}.products, ADD COLUMN sku INT NULL;
UPDATE {{db}}.products SET sku = id * 100;
-- cut: alter-rename
TRUNCATE TABLE {{db}}.products;
INSERT INTO {{db}}.products (title, price) VALUES ('after truncate', 9.9);
-- cut: truncate
DROP TABLE {{db}}.products;
-- cut: drop
CREATE TABLE {{db}}.products (id BIGINT PRIMARY KEY, note VARCHAR(20) CHARACTER SET latin1);
INSERT INTO {{db}}.products VALUES (1, 'recreated'), (2, 'différent');
-- cut: recreate
