-- A group commit sends its statements and its COMMIT in one round trip, so the database itself must
-- stop the transaction when a statement changed other than the rows it had to (a stale version, an id
-- already decided): each statement ends in this check, whose error aborts the rest, COMMIT included.
CREATE OR REPLACE FUNCTION bg_expect_rows(actual bigint, expected bigint) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF actual <> expected THEN
        RAISE EXCEPTION 'expected % rows, changed %', expected, actual USING ERRCODE = 'BG001';
    END IF;
END
$$;
