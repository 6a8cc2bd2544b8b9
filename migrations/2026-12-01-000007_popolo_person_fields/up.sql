-- Popolo's person fields the register lacked: the name a person is sorted
-- by, honorifics before and after the name, and the day of death (public,
-- unlike the day of birth).
ALTER TABLE people
    ADD COLUMN sort_name text CHECK (char_length(sort_name) BETWEEN 1 AND 500),
    ADD COLUMN honorific_prefix text CHECK (char_length(honorific_prefix) BETWEEN 1 AND 100),
    ADD COLUMN honorific_suffix text CHECK (char_length(honorific_suffix) BETWEEN 1 AND 100),
    ADD COLUMN death_date date
        CONSTRAINT people_death_date_domain CHECK (death_date BETWEEN '0001-01-01' AND '9999-12-31');
