-- Logins whose password is being checked, per throttle key: a key's
-- settled failures plus its pending checks may not pass its lock threshold,
-- so a parallel burst of guesses can't slip under the lock, while only
-- settled failures are counted (a burst of right passwords is never locked
-- out). pending_at lets a count left by a process that died mid-check expire.
ALTER TABLE login_failures ADD COLUMN pending BIGINT NOT NULL DEFAULT 0;
ALTER TABLE login_failures ADD COLUMN pending_at {{TIME}};
