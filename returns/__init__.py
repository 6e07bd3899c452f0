"""Returns, whatever channel the goods were bought through: announced by a channel or
brought to a counter, received into quality control, inspected and graded unit by
unit before anything is sold again, and closed; the store's screens, the API and the
overdue job (``returns.services`` holds the rules)."""
