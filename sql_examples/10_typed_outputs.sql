-- Typed answers: returns := '<DuckDB type>' keeps every token of the answer inside the type, and
-- the column has that type, so a year is a SMALLINT to compare and add, never "c. 1932".
-- (Needs the typed extra: pip install 'infersql[typed]'.)
--
-- With the built-in model: the year of each note as a SMALLINT (1932, 2015, 1987, 2003), and
-- the notes whose year is before 2000. The built-in model was not taught JSON records, so a
-- STRUCT extraction wants a real checkpoint, e.g.
--   LLM('Who and where?', note, returns := 'STRUCT(name VARCHAR, city VARCHAR)',
--       model := '/path/to/a/real/checkpoint')
-- A value its type cannot hold reads NULL and is counted in cursor.stats.cast_failures.
CREATE TABLE dated_notes AS SELECT * FROM (VALUES
    (1, 'The bridge was opened in 1932.'),
    (2, 'Maria Lopez moved to Lisbon in 2015.'),
    (3, 'Tom Baker was born in 1987 in Madrid.'),
    (4, 'The museum closed in 2003.')) t(id, note);

SELECT id, LLM('What is the year?', note, returns := 'SMALLINT') AS year
FROM dated_notes ORDER BY id;

SELECT id FROM dated_notes
WHERE LLM('What is the year?', note, returns := 'SMALLINT') < 2000
ORDER BY id;
