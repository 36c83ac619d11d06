-- The raw form: LLM(prompt_text) with one argument sends the text exactly as built,
-- with no field lines; options such as max_tokens := still apply.
CREATE TABLE cities (city VARCHAR, country VARCHAR);
INSERT INTO cities VALUES ('Lyon', 'France'), ('Porto', 'Portugal'), ('Graz', 'Austria');
SELECT city,
       LLM('Write a one-line travel slogan for ' || city || ', ' || country || '.',
           max_tokens := 12) AS slogan
FROM cities
ORDER BY city;
