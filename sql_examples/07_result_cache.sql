-- The result cache: LLM answers are stored in the database (table infersql_catalog.llm_cache),
-- keyed by model, prompt and decoding options. The second SELECT is served from it and
-- runs no inference; with a database file this holds across sessions too.
CREATE TABLE notes (id INTEGER, note VARCHAR);
INSERT INTO notes VALUES (1, 'Buy milk'), (2, 'Call the plumber'), (3, 'Buy milk');
SELECT id, LLM('Rewrite as a polite request.', note, max_tokens := 10) AS polite FROM notes ORDER BY id;
SELECT id, LLM('Rewrite as a polite request.', note, max_tokens := 10) AS polite FROM notes ORDER BY id;
SELECT count(*) AS cached_answers FROM infersql_catalog.llm_cache;
