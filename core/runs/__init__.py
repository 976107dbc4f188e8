"""One run from submit to a stamped PNG: the record, the runner and its typed events, the history store, resuming after
a restart, parameters in PNG chunks."""
