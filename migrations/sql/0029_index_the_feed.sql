-- The feed's first step reads only this index: for each author the reader follows, their visible
-- posts newest first, without touching the rows (ADR 14). `posts_author` stays for a profile's
-- own list, which also shows the author their hidden posts.
ALTER TABLE posts ADD INDEX posts_feed (author_id, is_hidden, is_deleted, seq);
