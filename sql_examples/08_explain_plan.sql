-- EXPLAIN shows the optimizer's plan of a query's LLM work before anything is inferred: each
-- LLM operator with its estimated rows, distinct prompts, result-cache hits, prompt tokens,
-- tokens expected from the prefix cache in the chosen order, decode tokens, seconds and KV
-- memory. EXPLAIN ANALYZE runs the query and prints the actual figures beside the estimates.
-- Try:  infersql sql_examples/08_explain_plan.sql
-- The built-in model copies the critic's name and judges whether a plainly worded critique
-- recommends the film; it cannot summarize a critique (use model := '/path/to/checkpoint').
-- Expected with the built-in model: Harbor Lights by Lucas Silva and Maria Rossi, The Last
-- Orbit by Emma Garcia (Kenji Tanaka and Sofia Costa pan their films; Pedro Alves's one star
-- never reaches the model).
CREATE TABLE films AS SELECT * FROM (VALUES
  (1, 'Harbor Lights', 'A fisherman''s daughter runs the family boat through a hard winter.'),
  (2, 'The Last Orbit', 'Two astronauts argue about whether to come home.')) t(id, title, plot);
CREATE TABLE critiques AS SELECT * FROM (VALUES
  (1, 1, 5, 'Review by Maria Rossi: a warm, wonderful film with a great cast.'),
  (2, 1, 2, 'According to Kenji Tanaka, the film was boring and far too long.'),
  (3, 2, 4, 'Emma Garcia said the film was tense and clever.'),
  (4, 2, 1, 'Review by Pedro Alves: awful. I walked out.'),
  (5, 2, 3, 'Sofia Costa said the film was dull. A waste of time.'),
  (6, 1, 4, 'My name is Lucas Silva and I think the film is brilliant.')) t(id, film_id, stars, critique);
EXPLAIN
SELECT f.title, LLM('Who wrote this?', c.critique, max_tokens := 8) AS critic
FROM critiques c JOIN films f ON f.id = c.film_id
WHERE c.stars >= 2 AND LLM_FILTER('Does the critic recommend the film?', f.title, c.critique)
ORDER BY f.title, critic;
EXPLAIN ANALYZE
SELECT f.title, LLM('Who wrote this?', c.critique, max_tokens := 8) AS critic
FROM critiques c JOIN films f ON f.id = c.film_id
WHERE c.stars >= 2 AND LLM_FILTER('Does the critic recommend the film?', f.title, c.critique)
ORDER BY f.title, critic;
-- The query itself: its answers were cached by EXPLAIN ANALYZE, so this infers nothing.
SELECT f.title, LLM('Who wrote this?', c.critique, max_tokens := 8) AS critic
FROM critiques c JOIN films f ON f.id = c.film_id
WHERE c.stars >= 2 AND LLM_FILTER('Does the critic recommend the film?', f.title, c.critique)
ORDER BY f.title, critic;
