-- AUTO_INCREMENT counters: the restored table's counter equals the source's at the cut, also after
-- the highest rows were deleted (the snapshot's counter, then every inserted key since).
CREATE TABLE {{db}}.t (id INT AUTO_INCREMENT PRIMARY KEY, v VARCHAR(10));
INSERT INTO {{db}}.t (v) VALUES ('a'), ('b'), ('c');
DELETE FROM {{db}}.t WHERE id = 3;
CREATE TABLE {{db}}.audit (n BIGINT UNSIGNED NOT NULL AUTO_INCREMENT, code CHAR(2) NOT NULL, PRIMARY KEY (code), UNIQUE KEY (n));
INSERT INTO {{db}}.audit (code) VALUES ('aa'), ('bb');
