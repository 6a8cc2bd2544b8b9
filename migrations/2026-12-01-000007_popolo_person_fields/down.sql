ALTER TABLE people
    DROP COLUMN sort_name,
    DROP COLUMN honorific_prefix,
    DROP COLUMN honorific_suffix,
    DROP COLUMN death_date;
