-- The corpus runs in workload.sql (see tools/mariadb-test-corpus.mjs).
SELECT 1;
