"""The contracts below the component registry: what every component builds on."""
