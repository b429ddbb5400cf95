-- POP3's mailbox lock is now held for the session itself (an advisory lock
-- on PostgreSQL, a file lock beside SQLite), released when the session or
-- its process ends: the lease table of 0031 is no longer used.
DROP TABLE pop3_locks;
