-- The optimizer runs relational predicates before any LLM call, ranks LLM predicates by cost
-- per row / (1 - selectivity) (learnt from a small sample, then from feedback on earlier runs),
-- and stops an LLM filter under a LIMIT without ORDER BY once enough rows passed.
-- Try:  infersql sql_examples/09_cheap_first_and_limit.sql
CREATE TABLE forum_posts AS
SELECT i AS id, i % 3 = 0 AS flagged,
       'Post ' || i || ': ' || (['the cat sat on the mat', 'buy cheap watches now',
                                  'my dog loves the park', 'meeting moved to friday'])[1 + i % 4] AS body
FROM range(40) r(i);
SELECT id FROM forum_posts
WHERE NOT flagged
  AND LLM_CLASSIFY('What kind of post is it?', ['pets', 'spam', 'work', 'other'], body) <> 'spam'
  AND LLM_FILTER('Is the post about an animal?', body)
ORDER BY id;
SELECT id, body FROM forum_posts WHERE LLM_FILTER('Is the post about an animal?', body) LIMIT 3;
