CREATE TABLE {{db}}.items (id INT PRIMARY KEY AUTO_INCREMENT, name VARCHAR(30) NOT NULL, qty INT, price DECIMAL(8,2)) ENGINE=InnoDB;
INSERT INTO {{db}}.items (name, qty, price) VALUES ('apple', 3, 1.25), ('pear', 0, 2.50), ('plum', 7, 0.99);
CREATE TABLE {{db}}.other (k INT PRIMARY KEY, v TEXT);
INSERT INTO {{db}}.other VALUES (1, 'one'), (2, 'two');
