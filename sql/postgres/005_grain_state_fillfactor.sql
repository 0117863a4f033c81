-- Every grain write rewrites its row. Room left in each page lets the new row version go into the
-- same page (a HOT update: no index entry, and the page prunes the dead versions itself), so a busy
-- table neither bloats nor fills its primary key with dead entries between vacuums.
ALTER TABLE grain_state SET (fillfactor = 50);
