-- Issue 14: a paper's text_seq is the seq of its last change that a search index shows as text
-- (any column but the counts). A vote or a new Hugging Face count moves seq alone, so a node's
-- follower updates the upvote filters without re-indexing the text (search/lexical.py). NULL
-- (a new row, or one from before this migration): the text counts as changed.
ALTER TABLE papers ADD COLUMN text_seq INTEGER;
CREATE TRIGGER papers_text_seq AFTER UPDATE OF seq ON papers FOR EACH ROW WHEN NEW.seq IS NOT OLD.seq
BEGIN
    UPDATE papers SET text_seq = CASE WHEN
        NEW.version IS NOT OLD.version OR NEW.title IS NOT OLD.title OR NEW.abstract IS NOT OLD.abstract
        OR NEW.authors IS NOT OLD.authors OR NEW.categories IS NOT OLD.categories
        OR NEW.primary_category IS NOT OLD.primary_category OR NEW.published IS NOT OLD.published
        OR NEW.updated IS NOT OLD.updated OR NEW.comment IS NOT OLD.comment
        OR NEW.github_repo IS NOT OLD.github_repo OR NEW.github_stars IS NOT OLD.github_stars
        OR NEW.project_page IS NOT OLD.project_page OR NEW.org_name IS NOT OLD.org_name
        OR NEW.org_fullname IS NOT OLD.org_fullname OR NEW.org_avatar IS NOT OLD.org_avatar
        OR NEW.ai_summary IS NOT OLD.ai_summary OR NEW.ai_keywords IS NOT OLD.ai_keywords
        OR NEW.withdrawn IS NOT OLD.withdrawn OR NEW.announced IS NOT OLD.announced
        THEN NEW.seq ELSE COALESCE(OLD.text_seq, OLD.seq) END
    WHERE arxiv_id = NEW.arxiv_id;
END;
