DROP TABLE checklist_drafts;
