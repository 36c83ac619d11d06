-- LLM over a JOIN: one question per joined row. LLM copies who wrote each comment, and
-- max_tokens := bounds the answer's length; LLM_CLASSIFY reads two fields, the product's name
-- and the comment, each sent as a "name: value" line after the instruction.
-- A summary ("Summarize the feedback in five words.") is beyond the built-in model: it was
-- trained to answer questions and copy names, numbers and words, not to write new text. With
-- a real checkpoint, add model := '/path/to/checkpoint' to any call to ask it such things.
-- Expected with the built-in model: each comment's author copied whole; the kettle praised by
-- Olivia Smith and panned by Maria Rossi, the lamp praised by Kenji Tanaka and panned by Pedro
-- Alves, the headphones panned by Emma Garcia and praised by Lucas Silva.
CREATE TABLE products (sku VARCHAR, name VARCHAR);
CREATE TABLE feedback (sku VARCHAR, comment VARCHAR);
INSERT INTO products VALUES ('K1', 'Kettle'), ('L2', 'Desk lamp'), ('H3', 'Headphones');
INSERT INTO feedback VALUES
  ('K1', 'Olivia Smith said the kettle was wonderful.'),
  ('K1', 'According to Maria Rossi, the kettle was awful.'),
  ('L2', 'Kenji Tanaka bought the lamp last week and it works perfectly.'),
  ('L2', 'Review by Pedro Alves: terrible lamp.'),
  ('H3', 'Emma Garcia bought the headphones last week and the battery died within an hour.'),
  ('H3', 'My name is Lucas Silva and I think the headphones are excellent.');
SELECT p.name,
       LLM('Who wrote this?', f.comment, max_tokens := 8) AS customer,
       LLM_CLASSIFY('What is the sentiment?', ['positive', 'negative'], p.name, f.comment) AS sentiment
FROM feedback f JOIN products p USING (sku)
ORDER BY p.name, f.comment;
