-- LLM_FILTER in WHERE: keep the rows the model answers "yes" for.
-- The cheap predicate (stars >= 3) sits beside it; decoding is constrained to yes/no,
-- so each row costs one forward pass and the answer never needs parsing.
-- Expected with the built-in model: 1, 3, 5, 6 and 8 (4, 7 and 10 have three stars or more
-- but pan the film; 2 and 9 never reach the model).
CREATE TABLE reviews (id INTEGER, stars INTEGER, review VARCHAR);
INSERT INTO reviews VALUES
  (1, 5, 'A warm, patient film with a great cast.'),
  (2, 2, 'Awful, slow and far too long.'),
  (3, 4, 'Tense and clever; the ending surprised me.'),
  (4, 3, 'Dull and far too long. I fell asleep halfway through.'),
  (5, 5, 'Pure joy for the whole family.'),
  (6, 4, 'Brilliant. I enjoyed every minute.'),
  (7, 3, 'A boring mess, a waste of money.'),
  (8, 4, 'The story kept me hooked until the end.'),
  (9, 1, 'Dreadful from start to finish.'),
  (10, 3, 'Terrible plot and lifeless acting.');
SELECT id, review
FROM reviews
WHERE stars >= 3 AND LLM_FILTER('Does the reviewer recommend the film?', review)
ORDER BY id;
