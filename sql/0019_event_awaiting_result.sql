-- A game past its start by more than its sport's longest plausible duration that still has no
-- score is 'awaiting' (its result): off the board and not bettable, still polled for a late score,
-- and cancelled by the void rule (BETTING_VOID_AFTER_HOURS) if none comes. Expand only: releases
-- that do not know 'awaiting' never write it.
ALTER TABLE events DROP CONSTRAINT events_status_check;
ALTER TABLE events ADD CONSTRAINT events_status_check
    CHECK (status IN ('scheduled', 'upcoming', 'live', 'awaiting', 'final', 'cancelled')) NOT VALID;
ALTER TABLE events VALIDATE CONSTRAINT events_status_check;
