-- LLM_CLASSIFY with GROUP BY: label each support ticket, then count per label.
-- The answer is always one of the labels; multi-token labels are scored on all their tokens.
CREATE TABLE tickets (id INTEGER, body VARCHAR);
INSERT INTO tickets VALUES
  (1, 'I was charged twice for my order.'),
  (2, 'The app crashes when I open settings.'),
  (3, 'How do I change my delivery address?'),
  (4, 'Refund still missing after two weeks.'),
  (5, 'Login button does nothing on my phone.');
SELECT LLM_CLASSIFY('Which team should handle this ticket?',
                    ['billing', 'technical support', 'general questions'], body) AS team,
       count(*) AS tickets
FROM tickets
GROUP BY team
ORDER BY team;
