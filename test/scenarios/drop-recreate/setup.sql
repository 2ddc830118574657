CREATE TABLE {{db}}.t (id INT PRIMARY KEY, v VARCHAR(10));
INSERT INTO {{db}}.t VALUES (1, 'first life');
