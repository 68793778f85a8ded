"""The driver service: drivers' positions in Redis, found with GEOSEARCH, fetched one by one (every 5th times out)."""
