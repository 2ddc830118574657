-- Foreign keys with referential actions: MariaDB logs only the statement's own rows, the server
-- applies the cascades. A 3-level ON DELETE CASCADE chain (customers -> orders -> items), ON UPDATE
-- CASCADE of a primary key, ON DELETE / ON UPDATE SET NULL, and a self-referencing tree.
CREATE TABLE {{db}}.customers (id INT PRIMARY KEY, name VARCHAR(20) NOT NULL);
CREATE TABLE {{db}}.orders (id INT PRIMARY KEY, customer_id INT NOT NULL, note VARCHAR(20), CONSTRAINT fk_orders_customer FOREIGN KEY (customer_id) REFERENCES customers (id) ON DELETE CASCADE ON UPDATE CASCADE);
CREATE TABLE {{db}}.items (id INT AUTO_INCREMENT PRIMARY KEY, order_id INT NOT NULL, sku VARCHAR(10), CONSTRAINT fk_items_order FOREIGN KEY (order_id) REFERENCES orders (id) ON DELETE CASCADE ON UPDATE CASCADE);
CREATE TABLE {{db}}.addresses (id INT PRIMARY KEY, customer_id INT NULL, city VARCHAR(20), CONSTRAINT fk_addresses_customer FOREIGN KEY (customer_id) REFERENCES customers (id) ON DELETE SET NULL ON UPDATE SET NULL);
CREATE TABLE {{db}}.tree (id INT PRIMARY KEY, parent_id INT NULL, label VARCHAR(10), CONSTRAINT fk_tree_parent FOREIGN KEY (parent_id) REFERENCES tree (id) ON DELETE CASCADE);
CREATE TABLE {{db}}.plain (id INT PRIMARY KEY, v INT);
INSERT INTO {{db}}.customers VALUES (1, 'ann'), (2, 'bob'), (3, 'cy'), (4, 'dee');
INSERT INTO {{db}}.orders VALUES (10, 1, 'a1'), (11, 1, 'a2'), (20, 2, 'b1'), (30, 3, 'c1'), (40, 4, 'd1');
INSERT INTO {{db}}.items (order_id, sku) VALUES (10, 'x'), (10, 'y'), (11, 'z'), (20, 'p'), (30, 'q'), (40, 'r');
INSERT INTO {{db}}.addresses VALUES (1, 1, 'Oslo'), (2, 2, 'Rome'), (3, 3, 'Lima'), (4, 4, 'Bonn');
INSERT INTO {{db}}.tree VALUES (1, NULL, 'root'), (2, 1, 'a'), (3, 1, 'b'), (4, 2, 'a.a'), (5, 4, 'a.a.a'), (6, NULL, 'other'), (7, 6, 'o.a');
INSERT INTO {{db}}.plain VALUES (1, 1), (2, 2);
