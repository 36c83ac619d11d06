-- LLM_FILTER in WHERE: keep the rows the model answers "yes" for.
-- The cheap predicate (stars >= 3) sits beside it; decoding is constrained to yes/no,
-- so each row costs one forward pass and the answer never needs parsing.
CREATE TABLE reviews (id INTEGER, stars INTEGER, review VARCHAR);
INSERT INTO reviews VALUES
  (1, 5, 'A warm, patient film with a great cast.'),
  (2, 2, 'Slow, grey and far too long.'),
  (3, 4, 'Tense and clever; the ending surprised me.'),
  (4, 3, 'Fine for a rainy afternoon.'),
  (5, 5, 'Pure joy for the whole family.');
SELECT id, review
FROM reviews
WHERE stars >= 3 AND LLM_FILTER('Does the reviewer recommend the film?', review)
ORDER BY id;
