DROP TABLE {{db}}.t;
CREATE TABLE {{db}}.t (id INT PRIMARY KEY, v VARCHAR(10), extra INT DEFAULT 5);
INSERT INTO {{db}}.t (id, v) VALUES (1, 'second'), (2, 'life');
-- cut: recreated
DROP DATABASE {{db}};
-- cut: database-dropped
CREATE DATABASE {{db}};
CREATE TABLE {{db}}.t (id INT PRIMARY KEY);
INSERT INTO {{db}}.t VALUES (42);
-- cut: third-life
