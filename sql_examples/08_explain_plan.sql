-- EXPLAIN shows the optimizer's plan of a query's LLM work before anything is inferred: each
-- LLM operator with its estimated rows, distinct prompts, result-cache hits, prompt tokens,
-- tokens expected from the prefix cache in the chosen order, decode tokens, seconds and KV
-- memory. EXPLAIN ANALYZE runs the query and prints the actual figures beside the estimates.
-- Try:  infersql sql_examples/08_explain_plan.sql
CREATE TABLE films AS SELECT * FROM (VALUES
  (1, 'Harbor Lights', 'A fisherman''s daughter runs the family boat through a hard winter.'),
  (2, 'The Last Orbit', 'Two astronauts argue about whether to come home.')) t(id, title, plot);
CREATE TABLE critiques AS SELECT * FROM (VALUES
  (1, 1, 5, 'A warm, patient film with a great cast.'),
  (2, 1, 2, 'Slow, grey and far too long.'),
  (3, 2, 4, 'Tense and clever; the ending surprised me.'),
  (4, 2, 1, 'I left before the end.')) t(id, film_id, stars, critique);
EXPLAIN
SELECT f.title, LLM('Summarize the critique in five words.', c.critique, max_tokens := 8) AS gist
FROM critiques c JOIN films f ON f.id = c.film_id
WHERE c.stars >= 2 AND LLM_FILTER('Does the critic recommend the film?', f.plot, c.critique)
ORDER BY f.title;
EXPLAIN ANALYZE
SELECT f.title, LLM('Summarize the critique in five words.', c.critique, max_tokens := 8) AS gist
FROM critiques c JOIN films f ON f.id = c.film_id
WHERE c.stars >= 2 AND LLM_FILTER('Does the critic recommend the film?', f.plot, c.critique)
ORDER BY f.title;
-- The query itself: its answers were cached by EXPLAIN ANALYZE, so this infers nothing.
SELECT f.title, LLM('Summarize the critique in five words.', c.critique, max_tokens := 8) AS gist
FROM critiques c JOIN films f ON f.id = c.film_id
WHERE c.stars >= 2 AND LLM_FILTER('Does the critic recommend the film?', f.plot, c.critique)
ORDER BY f.title;
