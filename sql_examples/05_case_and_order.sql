-- LLM calls inside CASE and ORDER BY: only rows that reach the CASE branch need an answer,
-- and ordering by a model's label works like ordering by any other expression.
-- The built-in model picks a topic among given labels (business, travel, health, sports,
-- food, music, politics, science, technology, weather); it was not trained to judge urgency.
-- The CASE sends no newsletter to the model, but ORDER BY asks about every row: the newsletter
-- of soup recipes sorts with food.
-- Expected with the built-in model: the sales report and the stock prices are business, the
-- doctor appointment and the diet plan health, the flight and the beach photos travel; rows
-- come out in topic order (business, food, health, travel), then by id.
CREATE TABLE emails (id INTEGER, sender VARCHAR, subject VARCHAR);
INSERT INTO emails VALUES
  (1, 'boss@example.com', 'Quarterly sales and profit report'),
  (2, 'news@example.com', 'Ten soup recipes for dinner'),
  (3, 'travel@example.com', 'Your flight and hotel for the trip'),
  (4, 'clinic@example.com', 'Your doctor appointment at the hospital'),
  (5, 'bank@example.com', 'Shares and stock prices rose this quarter'),
  (6, 'friend@example.com', 'Photos from our beach vacation'),
  (7, 'gym@example.com', 'New exercise and diet plan');
SELECT id, subject,
       CASE WHEN sender LIKE 'news@%' THEN 'newsletter'
            ELSE LLM_CLASSIFY('What is the topic?', ['business', 'food', 'health', 'travel'], subject)
       END AS topic
FROM emails
ORDER BY LLM_CLASSIFY('What is the topic?', ['business', 'food', 'health', 'travel'], subject), id;
