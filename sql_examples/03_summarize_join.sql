-- LLM in SELECT over a JOIN, with two fields: each becomes a "name: value" line after the
-- instruction, and max_tokens := bounds the answer's length.
CREATE TABLE products (sku VARCHAR, name VARCHAR);
CREATE TABLE feedback (sku VARCHAR, comment VARCHAR);
INSERT INTO products VALUES ('K1', 'Kettle'), ('L2', 'Desk lamp');
INSERT INTO feedback VALUES
  ('K1', 'Boils fast but the lid sticks.'),
  ('K1', 'Quiet and pretty.'),
  ('L2', 'Bright, but the arm droops after a week.');
SELECT p.name, f.comment,
       LLM('Summarize the feedback in five words.', p.name, f.comment, max_tokens := 8) AS gist
FROM feedback f JOIN products p USING (sku)
ORDER BY p.name, f.comment;
