-- The optimizer runs relational predicates before any LLM call, ranks LLM predicates by cost
-- per row / (1 - selectivity) (learnt from a small sample, then from feedback on earlier runs),
-- and stops an LLM filter under a LIMIT without ORDER BY once enough rows passed.
-- Try:  infersql sql_examples/09_cheap_first_and_limit.sql
-- The built-in model is sure about product categories and plainly worded reviews; it is not
-- about what kind of post a text is or whether it is about an animal (asked of cat and dog
-- posts, it answered no to every one).
-- Expected with the built-in model: 5, 14, 20, 29 and 35 (the kettles and frying pans in stock
-- with a positive review), then any three kitchen items.
CREATE TABLE listings AS
SELECT i AS id, i % 3 = 0 AS sold_out,
       (['Acme', 'Nova', 'Summit', 'Willow'])[1 + i % 4] || ' ' ||
       (['frying pan', 'teddy bear', 'headphones', 'garden hose', 'kettle'])[1 + i % 5] AS product,
       (['Works perfectly, highly recommended.', 'It broke on the first day. Awful.',
         'Excellent quality, I love it.'])[1 + i % 3] AS review
FROM range(40) r(i);
SELECT id FROM listings
WHERE NOT sold_out
  AND LLM_CLASSIFY('What category is the product?', ['kitchen', 'toys', 'electronics', 'garden'], product) = 'kitchen'
  AND LLM_FILTER('Is the review positive?', review)
ORDER BY id;
SELECT id, product FROM listings WHERE LLM_FILTER('Is the product a kitchen item?', product) LIMIT 3;
