-- LLM_FILTER inside a subquery and in HAVING: which authors wrote at least one review the
-- model calls positive, and how many of their reviews it calls positive.
-- The built-in model tells plainly positive reviews from plainly negative ones; it was not
-- trained to judge what a title is about ("Is this post about databases?" gets no for every row).
-- Expected with the built-in model: ana 1 of 2, cai 2 of 2, eli 2 of 2 (ben and dee wrote only
-- negative reviews, so the subquery drops them).
CREATE TABLE store_reviews (id INTEGER, author VARCHAR, review VARCHAR);
INSERT INTO store_reviews VALUES
  (1, 'ana', 'A wonderful blender. It works perfectly.'),
  (2, 'ana', 'The lamp broke after a week. Awful.'),
  (3, 'ben', 'Terrible chair, the parts did not fit.'),
  (4, 'cai', 'Great headphones, I love them.'),
  (5, 'cai', 'Excellent coffee, highly recommended.'),
  (6, 'dee', 'The toaster arrived damaged.'),
  (7, 'dee', 'Boring book. I fell asleep halfway through.'),
  (8, 'eli', 'The jacket is warm and comfortable.'),
  (9, 'eli', 'What a lovely restaurant!'),
  (10, 'ben', 'Awful pizza, it came cold.');
SELECT author, count(*) AS reviews,
       sum(CASE WHEN LLM_FILTER('Is the review positive?', review) THEN 1 ELSE 0 END) AS positive
FROM store_reviews
WHERE author IN (SELECT author FROM store_reviews WHERE LLM_FILTER('Is the review positive?', review))
GROUP BY author
HAVING sum(CASE WHEN LLM_FILTER('Is the review positive?', review) THEN 1 ELSE 0 END) >= 1
ORDER BY author;
