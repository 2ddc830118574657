-- Tables without a primary key, and one whose only unique key is nullable: rows match by full image.
CREATE TABLE {{db}}.log (at DATETIME(6), level ENUM('info','warn'), msg VARCHAR(50));
INSERT INTO {{db}}.log VALUES ('2020-01-01 00:00:00', 'info', 'same'), ('2020-01-01 00:00:00', 'info', 'same'), ('2020-01-01 00:00:00', 'info', 'same'), (NULL, NULL, NULL), (NULL, NULL, NULL);
CREATE TABLE {{db}}.nullable_uk (a INT NULL, b VARCHAR(10), UNIQUE KEY (a));
INSERT INTO {{db}}.nullable_uk VALUES (NULL, 'x'), (NULL, 'x'), (1, 'y');
