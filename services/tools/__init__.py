"""Tools: MCP servers a user adds, their sessions, and the calls a reply makes to them."""
