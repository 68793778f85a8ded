"""The customer service: customers in a SQL database, behind one contended connection (HotROD's bug)."""
