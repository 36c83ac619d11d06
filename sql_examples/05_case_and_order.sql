-- LLM calls inside CASE and ORDER BY: only rows that reach the CASE branch need an answer,
-- and ordering by a model's label works like ordering by any other expression.
CREATE TABLE emails (id INTEGER, sender VARCHAR, subject VARCHAR);
INSERT INTO emails VALUES
  (1, 'boss@example.com', 'Quarterly numbers due Friday'),
  (2, 'news@example.com', 'Ten recipes for autumn'),
  (3, 'it@example.com', 'Password expires tomorrow'),
  (4, 'friend@example.com', 'Dinner on Saturday?');
SELECT id, subject,
       CASE WHEN sender LIKE 'news@%' THEN 'newsletter'
            ELSE LLM_CLASSIFY('How urgent is this email?', ['urgent', 'can wait'], subject)
       END AS urgency
FROM emails
ORDER BY LLM_CLASSIFY('How urgent is this email?', ['urgent', 'can wait'], subject), id;
