-- A report taken on the duty phone (值班电话, issue #20): who called and their number, beside the
-- duty officer who filed it (reported_by). Null for a report from the field.
ALTER TABLE reports
  ADD COLUMN caller_name  text CHECK (length(caller_name) <= 40),
  ADD COLUMN caller_phone text CHECK (length(caller_phone) <= 20);
