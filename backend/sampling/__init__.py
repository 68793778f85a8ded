"""Remote sampling: strategies served to SDKs from a file or computed adaptively from observed traffic."""
