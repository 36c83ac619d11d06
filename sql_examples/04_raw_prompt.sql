-- The raw form: LLM(prompt_text) with one argument sends the text exactly as built,
-- with no field lines added; options such as max_tokens := still apply.
-- The built-in model understands only prompts shaped like the ones it was trained on: an
-- instruction line, "name: value" lines, and for a yes/no question a closing "Answer yes or
-- no." line. So the prompt below is built in that shape (it is the very prompt that
-- LLM_FILTER('Is the review positive?', review) sends), and the answer is the text "yes" or
-- "no" instead of a BOOLEAN. An open request such as 'Write a one-line travel slogan for ' ||
-- city gives garbled text with it; with a real checkpoint (model := '/path/to/checkpoint')
-- the raw prompt can be any text.
-- Expected with the built-in model: yes for Kyoto, Lima and Porto; no for Graz, Lyon and Oslo.
CREATE TABLE hotels (city VARCHAR, review VARCHAR);
INSERT INTO hotels VALUES
  ('Lyon', 'An awful hotel. The staff were rude.'),
  ('Porto', 'A wonderful stay, the staff were so kind.'),
  ('Graz', 'Dirty rooms. Never again.'),
  ('Kyoto', 'Excellent from start to finish.'),
  ('Oslo', 'The room was cold and the food was bland.'),
  ('Lima', 'Lovely views, I would happily recommend it.');
SELECT city,
       LLM('Is the review positive?' || chr(10) || 'review: ' || review || chr(10)
           || 'Answer yes or no.' || chr(10), max_tokens := 2) AS positive
FROM hotels
ORDER BY city;
