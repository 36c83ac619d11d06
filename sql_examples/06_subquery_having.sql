-- LLM_FILTER inside a subquery and in HAVING: which authors wrote at least one
-- post the model calls on-topic, and how many of their posts it accepts.
CREATE TABLE posts (id INTEGER, author VARCHAR, title VARCHAR);
INSERT INTO posts VALUES
  (1, 'ana', 'Tuning DuckDB for large joins'),
  (2, 'ana', 'My cat in the snow'),
  (3, 'ben', 'Why SQL window functions matter'),
  (4, 'cai', 'Holiday photos'),
  (5, 'cai', 'Indexing strategies for analytics');
SELECT author, count(*) AS posts,
       sum(CASE WHEN LLM_FILTER('Is this post about databases?', title) THEN 1 ELSE 0 END) AS on_topic
FROM posts
WHERE author IN (SELECT author FROM posts WHERE LLM_FILTER('Is this post about databases?', title))
GROUP BY author
HAVING sum(CASE WHEN LLM_FILTER('Is this post about databases?', title) THEN 1 ELSE 0 END) >= 1
ORDER BY author;
