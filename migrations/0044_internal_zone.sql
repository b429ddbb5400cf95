-- The zone an internal date was given in, in seconds east of UTC: APPEND's
-- date-time names one (RFC 9051 6.3.12), and a delivery takes the server's
-- zone at that moment. internal_date stays the instant (what lists sort
-- by); FETCH INTERNALDATE writes it in this zone, and SEARCH BEFORE, ON
-- and SINCE compare its date in this zone (RFC 9051 6.4.4: "disregarding
-- time and timezone"). Rows from before this column read as UTC.
ALTER TABLE mail_messages ADD COLUMN internal_zone INTEGER NOT NULL DEFAULT 0;
