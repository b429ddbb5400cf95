-- When a message was saved in its folder (IMAP SAVEDATE, RFC 8514): by
-- delivery, APPEND, COPY or MOVE, unlike internal_date, which APPEND may
-- set to any date and COPY keeps. NULL for messages saved before this
-- column, whose save date is taken to be their internal date.
ALTER TABLE mail_messages ADD COLUMN save_date {{TIME}};
