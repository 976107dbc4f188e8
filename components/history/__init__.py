"""The History tab: every run, searchable, restorable, exportable."""
