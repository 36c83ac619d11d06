-- LLM_CLASSIFY with GROUP BY: route each support ticket to the department that sells its
-- product, then count tickets per department. The answer is always one of the labels; a label
-- of several tokens is scored on all of them.
-- The built-in model classifies product names into categories (kitchen, electronics, toys,
-- garden, clothing, sports, beauty, office); it was not trained to read a ticket's complaint
-- and pick a team such as "billing", so the question is asked of the product, not the body.
-- Expected with the built-in model: kettle, frying pan and coffee maker in kitchen; headphones,
-- speaker, charger and laptop in electronics; teddy bear, board game and toy train in toys.
CREATE TABLE tickets (id INTEGER, product VARCHAR, body VARCHAR);
INSERT INTO tickets VALUES
  (1, 'Stainless steel kettle', 'The lid will not close.'),
  (2, 'Wireless headphones', 'The left side makes no sound.'),
  (3, 'Teddy bear', 'An eye came off on the first day.'),
  (4, 'Non-stick frying pan', 'The handle is loose.'),
  (5, 'Bluetooth speaker', 'It will not pair with my phone.'),
  (6, 'Board game', 'Two pieces were missing from the box.'),
  (7, 'Coffee maker', 'It leaks water onto the counter.'),
  (8, 'Phone charger', 'It gets very hot.'),
  (9, 'Laptop', 'The screen flickers.'),
  (10, 'Toy train', 'The wheels fell off.');
SELECT id, product,
       LLM_CLASSIFY('Which department sells this?', ['kitchen', 'electronics', 'toys'], product) AS department
FROM tickets
ORDER BY id;
-- The same call again, grouped: each answer is already in the result cache.
SELECT LLM_CLASSIFY('Which department sells this?', ['kitchen', 'electronics', 'toys'], product) AS department,
       count(*) AS tickets
FROM tickets
GROUP BY department
ORDER BY department;
