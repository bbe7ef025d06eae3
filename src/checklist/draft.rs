//! A first draft of a checklist from a discovery survey's problem areas: one item
//! per area, worded from the area's labels for the analyst to edit. Pure: the
//! caller chooses the areas and writes the file.
