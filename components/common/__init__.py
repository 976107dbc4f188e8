"""What every tab shares: the header, the engine bar and the visitor's session, start-up, the history store, files
handed to the page, text shown as text, refusals, request limits, schema-written signatures, spending on the owner's
key."""
