-- The result cache: LLM answers are stored in the database (table infersql_catalog.llm_cache),
-- keyed by model, prompt and decoding options. Notes 1 and 3 are the same prompt, so the first
-- SELECT infers three answers for four rows; the second SELECT is served from the cache and
-- runs no inference; with a database file this holds across sessions too.
-- The built-in model copies a person's name out of a sentence; it cannot rewrite text (a
-- request such as 'Rewrite as a polite request.' gives garbled words with it), and it may copy
-- a few words instead of answering none when a note names nobody.
-- Expected with the built-in model: Olivia Smith, Kenji Tanaka, Olivia Smith, Maria Rossi,
-- twice; then 3 cached answers.
CREATE TABLE notes (id INTEGER, note VARCHAR);
INSERT INTO notes VALUES
  (1, 'Yesterday Olivia Smith called about the laptop.'),
  (2, 'I met Kenji Tanaka at the library.'),
  (3, 'Yesterday Olivia Smith called about the laptop.'),
  (4, 'Maria Rossi said the jacket was great.');
SELECT id, LLM('Who is mentioned?', note, max_tokens := 8) AS person FROM notes ORDER BY id;
SELECT id, LLM('Who is mentioned?', note, max_tokens := 8) AS person FROM notes ORDER BY id;
SELECT count(*) AS cached_answers FROM infersql_catalog.llm_cache;
