"""The MCP tools, one module per group; each module's ``register`` adds its tools to the server."""
